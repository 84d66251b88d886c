"""The HTTP client libraries python-socketio loads for its own clients, left unloaded in a server.

``import socketio`` imports its ``Client`` and ``AsyncClient``, and with them python-engineio's
clients import requests (with urllib3) and aiohttp (with yarl and multidict) at module level. A
server never makes a Socket.IO client, yet a start spent ~0.1 s of its CPU loading them
(``python -X importtime -c "import server.app"``: aiohttp 73 ms, requests 34 ms, cumulative),
which is time a restarted node is not answering its reconnecting clients (issue 58's start-up).

``defer_client_libraries()``, called by ``server/worker.py`` (what ``parley serve`` and each of its
workers import first) before anything imports ``socketio``, puts a stand-in for each library in
``sys.modules``. engineio's clients only keep the name and read its
attributes inside their methods (CONTRACT.md rows 62-63), so the stand-in's first attribute read
imports the real module in its place and answers from it: a process that does make a client (a
bot in the same process, a test) gets the real library, a server never pays for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

DEFERRED = ("aiohttp", "requests")  # what python-engineio's AsyncClient and Client import


class _Deferred(ModuleType):
    """Stands in for an installed module until something reads one of its attributes."""

    def __getattr__(self, name: str) -> Any:  # only called for what the stand-in does not hold
        return getattr(_load(self), name)


def _load(stand_in: ModuleType) -> ModuleType:
    """The real module, imported in the stand-in's place (once; other threads wait on the import lock)."""
    if sys.modules.get(stand_in.__name__) is stand_in:
        del sys.modules[stand_in.__name__]
    return importlib.import_module(stand_in.__name__)


def defer_client_libraries() -> list[str]:
    """Put a stand-in for each of ``DEFERRED`` not imported yet and installed; the names deferred."""
    deferred = []
    for name in DEFERRED:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None:  # not installed: engineio's own ``except ImportError`` handles it
            continue
        stand_in = _Deferred(name)
        stand_in.__spec__ = spec  # ``import name`` and ``find_spec`` see an imported module
        sys.modules[name] = stand_in
        deferred.append(name)
    return deferred


def is_deferred(name: str) -> bool:
    """Whether ``name`` is still a stand-in (the real library not loaded)."""
    return isinstance(sys.modules.get(name), _Deferred)
