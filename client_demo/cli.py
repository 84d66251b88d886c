"""Command line: ``python -m client_demo [global options] [COMMAND ...]``.

Without a command the interactive client runs. Exit codes: 0 ok, 1 an error
from the server or the connection (``error: CODE: message`` on stderr),
2 a usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client_demo import commands, credentials, interactive, moderation_oneshot, refresh, render, session_store
from client_demo.connection import Connection
from client_demo.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, ClientError, UsageError
from client_demo.output import err, wants_color
from client_demo.stdin import StdinLines

DEFAULT_URL = "http://127.0.0.1:8000"
LONG_RUNNING = {None, "chat", "listen"}  # these reconnect after a network failure

EPILOG = """\
examples:
  python -m client_demo --user alice                    chat interactively
  python -m client_demo --user alice --register         same, creating the account if needed
  python -m client_demo --user nora --invite 'http://host/#invite=CODE'   sign up with an invitation
  python -m client_demo                                 again, signed in by the stored session
  python -m client_demo --logout                        end the stored session, delete its file
  echo "$PW" | python -m client_demo --user alice --password-stdin send --topic lobby hello all
  PARLEY_TOKEN=$TOKEN python -m client_demo send --to bob "see you at 5"
  python -m client_demo --token "$TOKEN" listen --topic lobby --count 10 --json
  python -m client_demo --token "$TOKEN" send --topic lobby --reply-to 12 "agreed"
  python -m client_demo --token "$TOKEN" react 12 👍
  python -m client_demo --token "$TOKEN" emoji              list the custom emoji; react 12 :party_parrot:
  python -m client_demo --token "$TOKEN" ban lobby mallory --minutes 60 --reason spam
  python -m client_demo --token "$TOKEN" notify @bob mentions
  python -m client_demo --token "$TOKEN" search 'from:alice "release notes"' --limit 5
"""


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the client, return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.logout:
            err(asyncio.run(credentials.logout(identity(args))))
            return 0
        who = credentials.ask_terminal(identity(args))
        return asyncio.run(run(args, who))
    except UsageError as exc:
        err(f"usage: {exc}")
        return EXIT_USAGE
    except ClientError as exc:
        err(render.error_line(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `listen | head -1`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR


async def run(args: argparse.Namespace, who: credentials.Identity) -> int:
    """Log in, connect, run the command (or the REPL), always disconnect."""
    lines = StdinLines()
    token, kept = await credentials.sign_in(who, lines)
    conn = Connection(who.url, token, reconnect=args.command in LONG_RUNNING, timeout=args.timeout)
    refresh.keep_fresh(conn, timeout=args.timeout, kept=kept)  # before its token expires, a new one
    try:
        if args.command in (None, "chat"):
            return await interactive.run(conn, lines, color=wants_color(args.color))
        return await commands.COMMANDS[args.command](conn, args)
    finally:
        await conn.close()


def _invite_code(given: str | None) -> str | None:
    """The code of ``--invite``: as given, or taken from a link's ``#invite=`` fragment."""
    if not given:
        return None
    return given.rpartition("#invite=")[2] or None


def identity(args: argparse.Namespace) -> credentials.Identity:
    """Who the command line says we are (``--user`` wins over ``PARLEY_TOKEN``)."""
    return credentials.Identity(
        url=args.url.rstrip("/"),
        user=args.user,
        token=args.token or (None if args.user else credentials.env_token()),
        password=None,
        password_stdin=args.password_stdin,
        register=args.register or bool(args.invite),
        invite=_invite_code(args.invite),
        may_ask=args.command in (None, "chat") and credentials.terminal(),
        timeout=args.timeout,
        store=session_store.SessionStore(
            Path(args.session_file).expanduser() if args.session_file else session_store.default_path()
        ),
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser; global options are accepted before or after the command."""
    parser = argparse.ArgumentParser(
        prog="python -m client_demo",
        description="Parley chat client: interactive without a command, scriptable with one.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_globals(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparser = _subparser_factory(sub)

    subparser("chat", "interactive chat (the default)")

    send = subparser("send", "send one message, print its id and seq")
    _exactly_one(
        send,
        ("--topic", "NAME", "a topic (public topics are joined if needed)"),
        ("--to", "USER", "a user (direct message)"),
    )
    send.add_argument("--client-id", help="idempotency key: resending it stores nothing new")
    send.add_argument("--reply-to", type=int, metavar="ID", help="answer message ID, quoting it")
    send.add_argument("--thread", type=int, metavar="ID", help="reply in the thread of message ID")
    send.add_argument("--json", action="store_true", help="print the stored Message as JSON")
    send.add_argument("text", nargs="+", help="the message (words are joined by spaces)")

    listen = subparser("listen", "print new live messages (and reaction, thread, pin changes)")
    _exactly_one(
        listen,
        ("--topic", "NAME", "subscribe to this topic and print its messages"),
        ("--with", "USER", "print the direct conversation with USER"),
        required=False,
    )
    listen.add_argument("--count", type=_positive, help="exit after N messages (changes not counted)")
    listen.add_argument(
        "--json", action="store_true", help='one JSON Message per line; a change: {"event", "data"}'
    )

    topics = subparser("topics", "list topics and conversations")
    topics.add_argument("--json", action="store_true", help="one JSON Topic per line")

    create = subparser("create", "create a topic")
    create.add_argument("name")
    create.add_argument("--private", action="store_true", help="members join by invitation")

    history = subparser("history", "print the latest messages of a conversation")
    _exactly_one(history, ("--topic", "NAME", "a topic"), ("--with", "USER", "a direct conversation"))
    history.add_argument("--limit", type=_limit, default=50, help="1-200 (default 50)")
    history.add_argument("--json", action="store_true", help="one JSON Message per line")
    _conversation_commands(subparser)
    moderation_oneshot.add_subcommands(subparser)
    _search_command(subparser)
    export = subparser("export", "download all your data as a ZIP (one an hour); print where it is saved")
    export.add_argument("path", nargs="?", help="where to save it (default: parley-export-<id>.zip here)")
    emoji = subparser("emoji", "list the workspace's custom emoji (react with one: react ID :name:)")
    emoji.add_argument(
        "--json", action="store_true", help='one JSON {"name", "url", "by", "created_at"} per line'
    )
    return parser


def _search_command(subparser: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """``search`` (PROTOCOL.md section 9)."""
    search = subparser("search", "find messages, newest first (one page; see --cursor)")
    search.add_argument(
        "query",
        nargs="+",
        metavar="QUERY",
        help='words, "a phrase", -word, word*, from:USER, in:TOPIC, before:/after:YYYY-MM-DD, has:file, '
        "is:mention, is:thread (words are joined by spaces; a query starting with - goes after --)",
    )
    _exactly_one(
        search,
        ("--topic", "NAME", "only in this topic"),
        ("--with", "USER", "only in the direct conversation with USER"),
        required=False,
    )
    search.add_argument("--limit", type=_search_limit, help="hits per page, 1-100 (default 20)")
    search.add_argument("--cursor", help="the next page: what the previous page printed after next:")
    search.add_argument("--json", action="store_true", help='one JSON {"message", "highlight"} per line')


def _conversation_commands(subparser: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The subcommands of PROTOCOL.md section 8 (replies and threads are options of ``send``)."""
    for name, summary in (("react", "add a reaction to a message"), ("unreact", "remove your reaction")):
        react = subparser(name, summary)
        react.add_argument("id", type=int, metavar="ID", help="the message id a line shows as (id N)")
        react.add_argument("emoji", metavar="EMOJI", help="an emoji or a :name: shortcode")
        react.add_argument("--json", action="store_true", help='print {"id", "reactions"} as JSON')
    for name, summary in (("pin", "pin a message in its topic"), ("unpin", "unpin a message")):
        pin = subparser(name, summary)
        pin.add_argument("id", type=int, metavar="ID", help="the message id a line shows as (id N)")
        pin.add_argument("--json", action="store_true", help='print {"topic", "pins"} as JSON')
    pins = subparser("pins", "print the pinned messages of a conversation, newest pin first")
    pins.add_argument("topic", metavar="NAME|@USER", help="a topic, or @USER: the direct conversation")
    pins.add_argument("--json", action="store_true", help="one JSON Message per line")
    notify = subparser("notify", "set what a conversation may notify you of")
    notify.add_argument("topic", metavar="NAME|@USER", help="a topic, or @USER: the direct conversation")
    notify.add_argument("level", choices=["all", "mentions", "none"])
    notify.add_argument("--json", action="store_true", help="print the Topic as JSON")
    threadlog = subparser("threadlog", "print the latest replies of a thread")
    threadlog.add_argument("root", type=int, metavar="ID", help="the thread's first message")
    threadlog.add_argument("--limit", type=_limit, default=50, help="1-200 (default 50)")
    threadlog.add_argument("--json", action="store_true", help="one JSON Message per line")


GLOBALS: list[tuple[str, dict[str, Any]]] = [
    ("--url", {"help": f"server (default {DEFAULT_URL}, env PARLEY_URL)"}),
    ("--user", {"help": "username (env PARLEY_USER)"}),
    ("--token", {"help": "a JWT instead of a password (env PARLEY_TOKEN)"}),
    ("--password-stdin", {"action": "store_true", "help": "read the password from stdin's first line"}),
    ("--register", {"action": "store_true", "help": "create the account if the login fails"}),
    (
        "--invite",
        {"help": "an invitation's code or link (/#invite=CODE) to sign up with (implies --register)"},
    ),
    (
        "--session-file",
        {"help": "where the session is kept (env PARLEY_SESSION_FILE; ~/.config/parley-demo/session.json)"},
    ),
    ("--logout", {"action": "store_true", "help": "end the stored session and delete its file"}),
    ("--timeout", {"type": float, "help": "seconds to wait for an answer (default 10)"}),
    (
        "--color",
        {"choices": ["auto", "always", "never"], "help": "Markdown styles, mentions of you (auto: a tty)"},
    ),
]


def _global_defaults() -> dict[str, Any]:
    return {
        "--url": os.environ.get("PARLEY_URL", DEFAULT_URL),
        "--user": os.environ.get("PARLEY_USER"),
        "--token": None,
        "--password-stdin": False,
        "--register": False,
        "--invite": None,
        "--session-file": None,
        "--logout": False,
        "--timeout": 10.0,
        "--color": "auto",
    }


def _add_globals(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    defaults = _global_defaults()
    for flag, options in GLOBALS:
        default = argparse.SUPPRESS if suppress else defaults[flag]
        parser.add_argument(flag, default=default, **options)


def _subparser_factory(sub: Any) -> Callable[[str, str], argparse.ArgumentParser]:
    def subparser(name: str, summary: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=summary, description=summary)
        # Global options after the command too; SUPPRESS keeps the values given before it.
        _add_globals(parser, suppress=True)
        return parser

    return subparser


def _exactly_one(
    parser: argparse.ArgumentParser, *options: tuple[str, str, str], required: bool = True
) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    for flag, metavar, text in options:
        dest = "with_" if flag == "--with" else flag.lstrip("-")
        group.add_argument(flag, metavar=metavar, dest=dest, help=text)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _search_limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError("must be from 1 to 100")
    return value


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError("must be from 1 to 200")
    return value
