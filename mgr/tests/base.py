"""Shared test helpers: a backend instance without a running ceph-mgr, and
the real orchestrator CLI (OrchestratorCli) wired straight to it."""
import logging
import pickle
import unittest
from typing import Any, Dict, Optional

import orchestrator
from orchestrator import OrchResult, raise_if_exception
from orchestrator.module import OrchestratorCli

from orch_mgr.module import OrchBackend

from .fakeserver import FakeController

T0 = '2026-01-01T00:00:00.000000Z'


class Backend(OrchBackend):
    """OrchBackend minus the C++ side: options from a dict, get() from a dict."""

    def __init__(self, options: Dict[str, Any], data: Optional[Dict[str, Any]] = None) -> None:
        # MgrModule.__init__ needs the mgr's capsule; nothing of it is used
        # (MgrModule.__del__ only needs a root logger to unconfigure).
        self._root_logger = logging.getLogger()
        self.options = options
        self.data = data or {}

    def get_module_option(self, key: str, default: Any = None) -> Any:
        if key not in {o['name'] for o in self.MODULE_OPTIONS}:
            raise AssertionError(f'unknown module option {key}')
        return self.options.get(key, default)

    def get(self, data_name: str) -> Any:
        return self.data[data_name]


def cross_interpreter(res: Any) -> Any:
    """What the orchestrator module sees of an OrchResult: the exception only
    as its pickle (as between two sub-interpreters)."""
    assert isinstance(res, OrchResult), f'expected an OrchResult, got {type(res).__name__}'
    assert not isinstance(res.result, OrchResult), 'OrchResult wrapped twice'
    if res.serialized_exception is not None:
        pickle.loads(res.serialized_exception)  # must unpickle
    return res


def cli_for(backend: OrchBackend) -> OrchestratorCli:
    """The stock `orchestrator` CLI module with _oremote pointing at backend,
    so tests see exactly what `ceph orch ...` would print."""
    cli = OrchestratorCli.__new__(OrchestratorCli)
    cli._root_logger = logging.getLogger()

    def oremote(meth: str, args: Any, kwargs: Any) -> Any:
        r = getattr(backend, meth)(*args, **kwargs)
        if isinstance(r, OrchResult):
            cross_interpreter(r)
        return r

    cli._oremote = oremote  # type: ignore
    cli._select_orchestrator = lambda: 'orch'  # type: ignore
    return cli


class FakeTestCase(unittest.TestCase):
    """A fresh fake controller and backend per test."""

    options: Dict[str, Any] = {}

    def setUp(self) -> None:
        self.fake = FakeController()
        self.fake.__enter__()
        self.addCleanup(self.fake.__exit__, None, None, None)
        self.backend = Backend(dict({'api_url': self.fake.url, 'timeout': 5.0}, **self.options))
        self.cli = cli_for(self.backend)

    def ok(self, res: Any) -> Any:
        """The value of an OrchResult, raising its exception as the CLI would."""
        return raise_if_exception(cross_interpreter(res))

    def err(self, res: Any, exc: type = orchestrator.OrchestratorError) -> BaseException:
        cross_interpreter(res)
        with self.assertRaises(exc) as cm:
            raise_if_exception(res)
        return cm.exception
