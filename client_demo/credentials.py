"""Who we are: a token from ``--token`` / ``PARLEY_TOKEN``, or a login.

Login is tried first; on ``unauthorized`` the account is registered when
``--register`` was given (or, interactively on a terminal, when the user says
yes). A registration that hits ``conflict`` means the name exists and the
password was wrong, reported as ``unauthorized``.

The password comes from the first line of stdin (``--password-stdin``, read
with the same reader as the REPL so no line is lost) or from a terminal
prompt, asked by ``ask_terminal`` before the event loop starts, so the
blocking ``getpass`` never stalls the loop.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, replace

from client_demo import api
from client_demo.errors import ClientError, UsageError
from client_demo.output import prompt
from client_demo.stdin import StdinLines


@dataclass(frozen=True)
class Identity:
    """The command line's answer to "who are you"."""

    url: str
    user: str | None
    token: str | None
    password: str | None
    password_stdin: bool
    register: bool
    may_ask: bool  # interactive mode on a terminal: prompts are allowed
    timeout: float


def terminal() -> bool:
    """True when stdin is a terminal (prompts make sense)."""
    return sys.stdin.isatty()


def env_token() -> str | None:
    """``PARLEY_TOKEN`` when set and not empty."""
    return os.environ.get("PARLEY_TOKEN") or None


def ask_terminal(who: Identity) -> Identity:
    """Fill in username and password from the terminal when they are needed there.

    Runs before the event loop. ``UsageError`` when they are needed but stdin
    is not a terminal.
    """
    if who.token:
        return who
    if not who.user and not who.may_ask:
        raise UsageError("give --user NAME (or --token / PARLEY_TOKEN)")
    if who.password_stdin:
        return who
    if not terminal():
        raise UsageError("stdin is not a terminal: use --password-stdin, --token or PARLEY_TOKEN")
    user = who.user
    if not user:
        prompt("username: ")
        user = sys.stdin.readline().strip()
        if not user:
            raise UsageError("a username is required")
    return replace(who, user=user, password=getpass.getpass("password: "))


async def obtain_token(who: Identity, lines: StdinLines) -> str:
    """A token for ``who``; ``ClientError`` or ``UsageError`` otherwise."""
    if who.token:
        return who.token
    if not who.user:
        raise UsageError("give --user NAME (or --token / PARLEY_TOKEN)")
    password = who.password if who.password is not None else await _stdin_password(lines)
    try:
        return await api.login(who.url, who.user, password, timeout=who.timeout)
    except ClientError as exc:
        if exc.code != "unauthorized" or not await _want_register(who, lines):
            raise
    try:
        return await api.register(who.url, who.user, password, timeout=who.timeout)
    except ClientError as exc:
        if exc.code == "conflict":
            raise ClientError("unauthorized", f"wrong password for {who.user!r}") from None
        raise


async def _stdin_password(lines: StdinLines) -> str:
    line = await lines.readline()
    if not line:
        raise UsageError("--password-stdin: stdin has no password line")
    return line


async def _want_register(who: Identity, lines: StdinLines) -> bool:
    if who.register:
        return True
    if not who.may_ask:
        return False
    prompt(f"no account {who.user!r} with that password. Register it? [y/N] ")
    answer = (await lines.readline() or "").strip().lower()
    return answer in {"y", "yes"}
