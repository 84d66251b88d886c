"""What the commands of ``parley`` share: a refusal, a password prompt, a job run against the chat.

``CommandError`` is a refusal before any service is called (printed as ``parley: MESSAGE``);
``read_password`` asks on the terminal or reads stdin; ``with_chat`` builds the chat service on
the configured database (migrated first) for one job and stops it after; ``Operator`` builds a
subcommand with ``--json`` and renders a job's result as a ``table`` or one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

from pydantic import BaseModel, ValidationError

from server.config import Settings
from server.edge.validation import reason

if TYPE_CHECKING:  # the chat service and the database under it load when a command runs (with_chat)
    from server.chat.service import Chat

    Job = Callable[[Chat], Awaitable[int]]
    WithChat = Callable[[Settings, Job], int]

Actions: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # add_subparsers()
NO_TERMINAL = 2  # the exit code of a command that needed a terminal to ask for a password


class CommandError(Exception):
    """A refusal before any service is called: printed as ``parley: MESSAGE``, exit ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"parley: {message}\n")
    return code


def read_password(from_stdin: bool, prompt: str = "Password: ") -> str:
    """The first line of stdin, or a prompt on the terminal; ``CommandError`` (exit 2) without one."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for a password: use --password-stdin", NO_TERMINAL)
    try:
        return getpass.getpass(prompt)
    except (EOFError, KeyboardInterrupt):
        raise CommandError("no password given", NO_TERMINAL) from None


def invalid(exc: ValidationError) -> CommandError:
    return CommandError(f"invalid: {reason(exc.errors(include_url=False)[0])}")


def with_chat(settings: Settings, job: Job) -> int:
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


class Operator:
    """Builds the subcommands; ``with_chat`` runs a job against the configured database."""

    def __init__(self, with_chat: WithChat) -> None:
        self.with_chat = with_chat

    def command(
        self, sub: Actions, name: str, text: str, run: Callable[..., int], *positional: str
    ) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
        for argument in positional:
            parser.add_argument(argument)
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.set_defaults(run=run, action=name)
        return parser

    def run(
        self,
        settings: Settings,
        args: argparse.Namespace,
        job: Callable[[Chat], Awaitable[BaseModel]],
        plain: Callable[[BaseModel], str],
    ) -> int:
        async def run(chat: Chat) -> int:
            chat.topic_admin.protected.add(settings.public_topic.lower())  # the echo chat's channel
            result = await job(chat)
            sys.stdout.write(result.model_dump_json(indent=2) + "\n" if args.json else plain(result))
            return 0

        return self.with_chat(settings, run)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns two spaces apart; ``-`` for a missing value."""
    cells = [list(header)] + [["-" if value is None else str(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n" for row in cells
    )
