"""The one-shot subcommands of PROTOCOL.md section 10: moderation, blocking, reports.

Same contract as ``commands``: connect, do one job, print one confirmation (the
``moderation.Request`` line the REPL prints too), return an exit code; a refusal
propagates as ``ClientError`` (exit 1).

- ``kick``, ``ban``, ``unban``, ``mute``, ``unmute``, ``role`` (``NAME USER ...``):
  ``topic:kick`` ... ``topic:role``; acked ``{}``, so they have no ``--json``.
- ``archive``, ``unarchive``, ``rename``, ``describe`` (``NAME ...``): ``topic:archive``,
  ``topic:unarchive``, ``topic:update``; ``--json`` prints the Topic answered.
- ``block``, ``unblock`` (``USER``), ``blocks`` (one name a line, or ``--json``:
  ``{"users"}``), ``report ID REASON``: ``user:block`` ... ``message:report``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable

from client_demo import moderation, render
from client_demo.connection import Connection
from client_demo.errors import EXIT_OK
from client_demo.models import as_topic
from client_demo.moderation import Request
from client_demo.output import out

Subparser = Callable[[str, str], argparse.ArgumentParser]
Command = Callable[[Connection, argparse.Namespace], Awaitable[int]]

# Acked {}: the request from the parsed arguments.
ACTIONS: dict[str, Callable[[argparse.Namespace], Request]] = {
    "kick": lambda a: moderation.kick(a.topic, a.username, a.reason),
    "ban": lambda a: moderation.ban(a.topic, a.username, a.minutes, a.reason),
    "unban": lambda a: moderation.unban(a.topic, a.username),
    "mute": lambda a: moderation.mute(a.topic, a.username, a.minutes),
    "unmute": lambda a: moderation.unmute(a.topic, a.username),
    "role": lambda a: moderation.role(a.topic, a.username, a.role),
    "block": lambda a: moderation.block(a.username),
    "unblock": lambda a: moderation.block(a.username, blocked=False),
    "report": lambda a: moderation.report(a.id, " ".join(a.reason)),
}
# Acked with the Topic.
TOPIC_ACTIONS: dict[str, Callable[[argparse.Namespace], Request]] = {
    "archive": lambda a: moderation.archive(a.topic),
    "unarchive": lambda a: moderation.archive(a.topic, archived=False),
    "rename": lambda a: moderation.rename(a.topic, a.name),
    "describe": lambda a: moderation.describe(a.topic, " ".join(a.text)),
}


async def act(conn: Connection, args: argparse.Namespace) -> int:
    """``kick den bob --reason spam``: ``kicked bob from den (spam)``."""
    request = ACTIONS[args.command](args)
    await conn.connect()
    await conn.call(request.event, request.payload)
    out(request.done)
    return EXIT_OK


async def change_topic(conn: Connection, args: argparse.Namespace) -> int:
    """``archive den [--json]``: ``archived den`` (or the Topic as JSON)."""
    request = TOPIC_ACTIONS[args.command](args)
    await conn.connect()
    topic = as_topic(await conn.call(request.event, request.payload))
    out(json.dumps(topic, ensure_ascii=False) if args.json else moderation.topic_done(request, topic))
    return EXIT_OK


async def blocks(conn: Connection, args: argparse.Namespace) -> int:
    """``blocks [--json]``: the users I block, one a line (nothing when none)."""
    await conn.connect()
    data = await conn.call("user:blocks")
    users = moderation.blocked_users(data)
    if args.json:
        out(render.json_line({"users": users}))
    for user in [] if args.json else users:
        out(render.safe(user))
    return EXIT_OK


COMMANDS: dict[str, Command] = {
    **dict.fromkeys(ACTIONS, act),
    **dict.fromkeys(TOPIC_ACTIONS, change_topic),
    "blocks": blocks,
}


def add_subcommands(subparser: Subparser) -> None:
    """The parsers of section 10's subcommands (``subparser(name, summary)`` makes one)."""
    _member_commands(subparser)
    for name, summary in (
        ("archive", "make a topic read-only for everyone (owner, admin)"),
        ("unarchive", "make an archived topic writable again"),
    ):
        _json(_topic(subparser(name, summary)), "the Topic")
    rename = _topic(subparser("rename", "rename a topic (owner, admin)"))
    rename.add_argument("name", metavar="NEWNAME")
    _json(rename, "the Topic")
    describe = _topic(subparser("describe", "set a topic's description (owner, admin)"))
    describe.add_argument("text", nargs="+", metavar="TEXT", help='words joined by spaces ("" clears it)')
    _json(describe, "the Topic")
    for name, summary in (("block", "block a user"), ("unblock", "unblock a user")):
        subparser(name, summary).add_argument("username", metavar="USER")
    _json(subparser("blocks", "print the users you block, one a line"), '{"users"}')
    report = subparser("report", "report a message to the operator")
    report.add_argument("id", type=int, metavar="ID", help="the message id a line shows as (id N)")
    report.add_argument("reason", nargs="+", metavar="REASON", help="1-500 characters")


def _member_commands(subparser: Subparser) -> None:
    """``kick``, ``ban``, ``unban``, ``mute``, ``unmute``, ``role``: ``NAME USER ...``."""
    _reason(_member(subparser("kick", "remove a member from a topic (they may come back)")))
    ban = _member(subparser("ban", "remove a user from a topic and keep them out"))
    _minutes(ban, "until unban")
    _reason(ban)
    _member(subparser("unban", "let a banned user in again"))
    _minutes(_member(subparser("mute", "let a member read but not post")), "until unmute")
    _member(subparser("unmute", "let a muted member post again"))
    role = _member(subparser("role", "set a member's role (owner; admin for moderator/member)"))
    role.add_argument("role", choices=moderation.ROLES)


def _topic(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("topic", metavar="NAME", help="the topic")
    return parser


def _member(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    _topic(parser).add_argument("username", metavar="USER")  # not "user": that is --user's
    return parser


def _minutes(parser: argparse.ArgumentParser, otherwise: str) -> None:
    help_text = f"for N minutes (default: {otherwise})"
    parser.add_argument("--minutes", type=_positive, metavar="N", help=help_text)


def _reason(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", metavar="TEXT", help="1-500 characters, told to them and the topic")


def _json(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
