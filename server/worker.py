"""What uvicorn imports to serve Parley: ``server.worker:app_factory`` (``parley serve`` and each of
its ``--workers``).

Importing it readies the process before the app is imported and built, so that a restarted node
answers sooner (issue 58; ``python -m bench.startup``: 1.92 -> 1.42 s from exec to ``/healthz``):
the cyclic collector is held off until the lifespan turns it on (``server.collector``), and the
HTTP client libraries only a Socket.IO client uses stay unloaded
(``server/edge/engine/lazy_clients.py``). With ``--workers`` uvicorn's supervisor starts each
worker in a fresh interpreter that imports this module before the app, so every worker gets both;
a launcher of your own may name ``server.app:app_factory`` and do without them.
"""

from __future__ import annotations

from typing import Any

from server.collector import hold_collector
from server.edge.engine.lazy_clients import defer_client_libraries

defer_client_libraries()
hold_collector()


def app_factory() -> Any:
    """``server.app.app_factory``, imported only now: after the two steps above."""
    from server.app import app_factory as build

    return build()
