"""ceph-mgr orchestrator module backed by orch's controller (see module.py)."""
from .module import OrchBackend  # noqa: F401
