"""Unit tests for the orch ceph-mgr module.

They import the real `orchestrator` package and `ceph.deployment` classes
from Debian's ceph-mgr-modules-core / python3-ceph-common, so every
conversion is checked against the classes the mgr uses.  Only `ceph_module`
(the C extension the ceph-mgr binary provides) is stubbed.

Run:  cd mgr && /usr/bin/python3 -m unittest tests -v
  or: /usr/bin/python3 -m unittest discover -s mgr/tests -t mgr   (from the repo root)
"""
import os
import sys
import types

MGR_PY = os.environ.get('CEPH_MGR_PY', '/usr/share/ceph/mgr')
HERE = os.path.dirname(os.path.abspath(__file__))
MGR_DIR = os.path.dirname(HERE)

if 'ceph_module' not in sys.modules:
    stub = types.ModuleType('ceph_module')
    for _n in ('BaseMgrModule', 'BaseMgrStandbyModule', 'BasePyOSDMap',
               'BasePyOSDMapIncremental', 'BasePyCRUSH'):
        setattr(stub, _n, type(_n, (object,), {}))
    sys.modules['ceph_module'] = stub

for _p in (MGR_PY, MGR_DIR):
    if _p not in sys.path:
        sys.path.insert(0, _p)

if not os.path.isdir(os.path.join(MGR_PY, 'orchestrator')):
    raise ImportError(f'{MGR_PY}/orchestrator not found: install ceph-mgr '
                      f'(apt-get install --no-install-recommends ceph-mgr)')

import logging  # noqa: E402

# handle_orch_error logs every exception it wraps; the tests provoke many on
# purpose.  ORCH_MGR_TEST_LOG=1 shows them.
if not os.environ.get('ORCH_MGR_TEST_LOG'):
    logging.getLogger('orchestrator').setLevel(logging.CRITICAL)
    logging.getLogger('orch_mgr').setLevel(logging.CRITICAL)


def load_tests(loader, standard_tests, pattern):  # type: ignore
    """`python3 -m unittest tests` (from mgr/) runs every test module here."""
    standard_tests.addTests(loader.discover(start_dir=HERE, pattern=pattern or 'test*.py',
                                            top_level_dir=MGR_DIR))
    return standard_tests
