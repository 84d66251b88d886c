"""The ``parley`` command: serve, migrate, user create, token.

parley serve [--host H] [--port P] [--workers N] [--reload]
parley migrate
parley user create USERNAME [--password-stdin]
parley token USERNAME [--ttl SECONDS]
parley conformance-server [--host H] [--port P]
parley user|topic|stats ...      operator commands (server/cli_admin.py)
parley bot create|list|token|revoke   bot accounts (server/cli_bots.py)
parley backup DIR | restore DIR  a copy of the data, and back (server/cli_backup.py)
parley export DIR                every table and the files, for an operator (server/cli_export.py)
parley --version
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from server import __version__, cli_backup, cli_export, logs
from server.chat.accounts.schemas import RegisterIn
from server.chat.kernel.actors import CLI
from server.chat.kernel.errors import ChatError
from server.cli_admin import CommandError, Operator, read_password
from server.cli_audit import AuditCommand
from server.cli_bots import BotCommands
from server.config import Settings, SettingsError
from server.edge.validation import reason
from server.private_files import private_umask

if TYPE_CHECKING:  # built in _with_chat, the one place that loads the chat service and the database
    from server.chat.service import Chat


def main(argv: list[str] | None = None) -> int:
    """Every command with umask 077: what it writes is the operator's only (``server.private_files``)."""
    with private_umask():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        if not getattr(args, "fresh_data_dir", False):  # restore needs the data directory empty
            settings.secret()
    except ValidationError as exc:
        return _fail(f"configuration error: {_describe(exc)}")
    except SettingsError as exc:
        return _fail(f"configuration error: {exc}")
    command: Callable[[argparse.Namespace, Settings], int] = args.run
    try:
        return command(args, settings)
    except ChatError as exc:
        return _fail(f"{exc.code.value}: {exc.message}")
    except CommandError as exc:
        return _fail(str(exc), exc.code)


def _describe(exc: ValidationError) -> str:
    """Field and reason only: a setting's value may be a secret."""
    return "; ".join(
        f"PARLEY_{'_'.join(str(p) for p in e['loc']).upper()}: {reason(e)}"
        for e in exc.errors(include_input=False, include_url=False)
    )


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Parley chat server")
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true")
    serve.set_defaults(run=_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    user = sub.add_parser("user", help="manage users").add_subparsers(required=True, metavar="ACTION")
    create = user.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.set_defaults(run=_user_create)
    token = sub.add_parser("token", help="print a token for a user (no password needed)")
    token.add_argument("username")
    token.add_argument("--ttl", type=_positive, help="lifetime in seconds")
    token.set_defaults(run=_token)
    _add_conformance_server(sub)
    operator = Operator(_with_chat)
    operator.register(sub, user)
    BotCommands(operator).register(sub)
    cli_backup.register(sub)
    cli_export.register(sub)  # PROTOCOL.md section 16
    AuditCommand(operator).register(sub)
    return parser


def _add_conformance_server(sub: Any) -> None:
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
    from server.edge.engine.serving import run, serve_announcing

    if args.workers > 1 and not settings.redis_url:
        return _fail("--workers > 1 needs PARLEY_REDIS_URL (sockets on every worker must share rooms)")
    if args.workers > 1 and "polling" in settings.transports:
        # The workers share one port and the kernel spreads requests: a polling session's
        # requests would reach workers that do not know it. WebSocket stays on one worker.
        return _fail(
            "--workers > 1 serves WebSocket only: set PARLEY_TRANSPORTS=websocket, or run one "
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
        **settings.proxy_options(),
        **uvicorn_options(settings),  # request timeout, connections per address, keep-alive
    }
    raise_descriptor_limit()  # workers inherit it
    announce = logging.getLogger("parley.serve").info
    if args.workers > 1 or args.reload:  # uvicorn's supervisor binds and starts the processes
        announce("%s", serving_line(settings, host, port))
        run("server.app:app_factory", factory=True, workers=args.workers, reload=args.reload, **options)
        return 0

    def listening(bound: int | None) -> None:  # our line, with the port it got (``--port 0``)
        announce("%s", serving_line(settings, host, port if bound is None else bound))

    started = serve_announcing("server.app:app_factory", listening, **options)
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


def _with_chat(settings: Settings, job: Callable[[Chat], Awaitable[int]]) -> int:
    # Imported here, not at the top: the chat service, SQLAlchemy and alembic are about a second of
    # start, which --help, --version and a refused argument do not need (tests/cli/test_startup.py).
    from db.migrate import upgrade
    from server.adapters.cluster.db_relay import encode
    from server.chat_factory import build_chat

    async def run() -> int:
        chat = build_chat(settings)
        if not settings.redis_url:  # no hub channel: running servers read the events from the database
            chat.db.relay = encode
        try:
            await upgrade(chat.db.engine)
            await chat.start()
            return await job(chat)
        finally:
            await chat.stop()
            await chat.db.dispose()

    return asyncio.run(run())


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    async def done(_chat: Chat) -> int:
        sys.stdout.write("database is at the newest revision\n")
        return 0

    return _with_chat(settings, done)


def _user_create(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password(args.password_stdin)
    try:
        data = RegisterIn(username=args.username, password=password)
    except ValidationError as exc:
        return _fail(f"invalid: {reason(exc.errors(include_url=False)[0])}")

    async def create(chat: Chat) -> int:
        await chat.users.create(data.username, data.password, by=CLI)  # an audit row
        sys.stdout.write(f"created user {data.username}\n")
        return 0

    return _with_chat(settings, create)


def _token(args: argparse.Namespace, settings: Settings) -> int:
    async def issue(chat: Chat) -> int:
        token = await chat.users.issue_token(args.username, args.ttl)
        # Nothing is stored, but it is access given without a password: audited (section 16).
        await chat.audit.record(CLI, "token.issue", args.username, details={"ttl": args.ttl})
        sys.stdout.write(token.token + "\n")
        return 0

    return _with_chat(settings, issue)


def _fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"parley: {message}\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
