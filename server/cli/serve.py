"""``parley serve``, ``parley migrate`` and ``parley conformance-server``: the server's own commands.

parley serve [--host H] [--port P] [--workers N|auto] [--reload]
parley migrate
parley conformance-server [--host H] [--port P]

The web and realtime stacks load inside the commands, not with this module: every other
command starts without them (tests/cli/test_startup.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from server import logs
from server.cli.operator import fail, with_chat
from server.config import Settings

if TYPE_CHECKING:
    from server.chat.service import Chat
    from server.cli.operator import Actions

# Seconds uvicorn's supervisor waits for a worker's answer to its health ping before it kills the
# worker (uvicorn's default is 5). A worker starved of the cores for a few seconds (a connect storm
# of thousands, other work on the host) is not hung, and killing it drops every socket it holds;
# one that is really hung is still replaced, half a minute later.
WORKER_HEALTHCHECK = 30
# What uvicorn imports, in this process or in each worker's: it readies the process (the collector
# held off, the Socket.IO client's HTTP libraries unloaded) before it imports the app
APP = "server.worker:app_factory"


def add_serve(sub: Actions) -> None:
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        metavar="N|auto",
        help="worker processes on the one port (auto: one per core this process may use); more than "
        "one needs PARLEY_REDIS_URL and PARLEY_TRANSPORTS=websocket",
    )
    serve.add_argument("--reload", action="store_true")
    serve.set_defaults(run=_serve)


def worker_count(value: str) -> int:
    """``--workers``: a positive count, or ``auto``, one per core (``usable_cores``)."""
    if value == "auto":
        return usable_cores()
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"a positive number of workers, or auto: {value!r}")
    return count


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (a container's or ``taskset``'s cpuset),
    which ``os.cpu_count()`` ignores; that count where affinity is not known."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def add_migrate(sub: Actions) -> None:
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)


def add_conformance_server(sub: Actions) -> None:
    conformance = sub.add_parser(
        "conformance-server",
        help="serve the app the Socket.IO/Engine.IO protocol test suites expect (no chat)",
        description=(
            "Serve, on the same Engine.IO/Socket.IO stack as `parley serve`, the app the test suites "
            "of socketio/socket.io-protocol and socketio/engine.io-protocol expect: Socket.IO at "
            "/socket.io/ (namespaces / and /custom), plain Engine.IO at /engine.io/, ping interval "
            "300 ms and timeout 200 ms. No chat, no database. Default port 3000, as the suites expect."
        ),
    )
    conformance.add_argument("--host")
    conformance.add_argument("--port", type=int, default=3000)
    conformance.set_defaults(run=_conformance_server)


def _conformance_server(args: argparse.Namespace, settings: Settings) -> int:
    from server.edge.engine.conformance import conformance_settings, create_conformance_app
    from server.edge.engine.serving import run
    from server.edge.engine.wsprotocol import websocket_options

    run(
        create_conformance_app(conformance_settings(settings)),
        host=args.host or settings.host,
        port=args.port,
        log_level="warning",
        **websocket_options(),
    )
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from server.edge.engine.netguard import raise_descriptor_limit, uvicorn_options
    from server.edge.engine.serving import run, serve_announcing, serve_workers

    if args.workers > 1 and not settings.redis_url:
        return fail(
            f"--workers {args.workers} needs PARLEY_REDIS_URL (sockets on every worker must share rooms)"
        )
    if args.workers > 1 and "polling" in settings.transports:
        # The workers share one port and the kernel spreads requests: a polling session's
        # requests would reach workers that do not know it. WebSocket stays on one worker.
        # docs/deploy.md says why this is refused rather than routed between the workers.
        return fail(
            f"--workers {args.workers} serves WebSocket only: set PARLEY_TRANSPORTS=websocket, or run one "
            "process per port behind a sticky load balancer for polling (docs/deploy.md)"
        )
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    logs.configure(settings.log_json, settings.log_level)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": "auto",
        "http": "auto",
        "log_level": "warning",
        "backlog": settings.backlog,  # a reconnect storm's connects wait in the kernel, not refused
        **settings.proxy_options(),
        **uvicorn_options(settings),  # request timeout, connections per address, keep-alive
    }
    raise_descriptor_limit()  # workers inherit it
    announce = logging.getLogger("parley.serve").info
    if args.reload:  # uvicorn's supervisor binds and starts the process again on each change
        announce("%s", serving_line(settings, host, port))
        run(APP, factory=True, reload=True, **options)
        return 0
    if args.workers > 1:  # uvicorn's supervisor starts the processes on our listening socket
        announce("%s", serving_line(settings, host, port))
        serve_workers(APP, args.workers, timeout_worker_healthcheck=WORKER_HEALTHCHECK, **options)
        return 0

    def listening(bound: int | None) -> None:  # our line, with the port it got (``--port 0``)
        announce("%s", serving_line(settings, host, port if bound is None else bound))

    started = serve_announcing(APP, listening, **options)
    return 0 if started else 3  # uvicorn's STARTUP_FAILURE: the lifespan or the bind failed


def serving_line(settings: Settings, host: str, port: int) -> str:
    """Where to point a browser, an API client and a Socket.IO client, and the database (no password)."""
    from sqlalchemy.engine import make_url

    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    everywhere = f" (listening on all interfaces, {host or '0.0.0.0'})" if shown != host else ""
    database = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    return (
        f"parley serving: chat page {base}/ , API docs {base}/docs , Socket.IO path /socket.io"
        f"{everywhere}; database {database}"
    )


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    async def done(_chat: Chat) -> int:
        sys.stdout.write("database is at the newest revision\n")
        return 0

    return with_chat(settings, done)
