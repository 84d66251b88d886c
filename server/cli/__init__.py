"""The ``parley`` command: ``main`` and the parser; one module per group of commands.

parley serve | migrate | conformance-server   the server's own commands (server/cli/serve.py)
parley user|token|topic|stats|reports|search  operator commands (server/cli/admin.py)
parley bot create|list|token|revoke           bot accounts (server/cli/bots.py)
parley keys create|list|revoke                the server API's keys (server/cli/keys.py)
parley backup DIR | restore DIR               a copy of the data, and back (server/cli/backup.py)
parley export DIR                             every table and the files (server/cli/export.py)
parley audit                                  the audit log, for operators (server/cli/audit.py)
parley --version

What the commands share (a refusal, the password prompt, a job run against the chat, a table) is
in ``server/cli/operator.py``; ``python -m server.cli`` runs ``main`` (``__main__.py``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from pydantic import ValidationError

from server import __version__
from server.chat.kernel.errors import ChatError
from server.cli import backup, export, serve
from server.cli.admin import AdminCommands, add_token, add_user_create
from server.cli.audit import AuditCommand
from server.cli.bots import BotCommands
from server.cli.keys import KeyCommands
from server.cli.operator import CommandError, Operator, fail, with_chat
from server.config import Settings, SettingsError
from server.edge.validation import reason
from server.private_files import private_umask


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
        return fail(f"configuration error: {_describe(exc)}")
    except SettingsError as exc:
        return fail(f"configuration error: {exc}")
    command: Callable[[argparse.Namespace, Settings], int] = args.run
    try:
        return command(args, settings)
    except ChatError as exc:
        return fail(f"{exc.code.value}: {exc.message}")
    except CommandError as exc:
        return fail(str(exc), exc.code)


def _describe(exc: ValidationError) -> str:
    """Field and reason only: a setting's value may be a secret."""
    return "; ".join(
        f"PARLEY_{'_'.join(str(p) for p in e['loc']).upper()}: {reason(e)}"
        for e in exc.errors(include_input=False, include_url=False)
    )


def _parser() -> argparse.ArgumentParser:
    """Every command, in the order ``parley --help`` lists them."""
    parser = argparse.ArgumentParser(prog="parley", description="Parley chat server")
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    serve.add_serve(sub)
    serve.add_migrate(sub)
    user = sub.add_parser("user", help="manage users").add_subparsers(required=True, metavar="ACTION")
    add_user_create(user)
    add_token(sub)
    serve.add_conformance_server(sub)
    operator = Operator(with_chat)
    AdminCommands(operator).register(sub, user)
    BotCommands(operator).register(sub)
    KeyCommands(operator).register(sub)  # PROTOCOL.md section 17
    backup.register(sub)
    export.register(sub)  # PROTOCOL.md section 16
    AuditCommand(operator).register(sub)
    return parser
