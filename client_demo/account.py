"""Deleting one's own account (PROTOCOL.md section 16) in the REPL: ``/delete-account`` asks the
user to type their username to confirm, then their password (not echoed on a terminal), and sends
``DELETE /api/users/me`` ``{"password"}``. The server disables the account at once (this session's
socket closes) and erases it: profile, uploads, reactions; every message becomes a tombstone sent
by ``[deleted]``. Then the session ends. A mismatched name or a wrong password deletes nothing and
the session goes on.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator

from client_demo import api
from client_demo.connection import Connection
from client_demo.errors import ClientError
from client_demo.output import out, prompt
from client_demo.stdin import StdinLines

HELP = """\
  /delete-account             delete your account and erase what you wrote (asks your name and password)"""

Handler = Callable[[str], Awaitable[None]]


class AccountCommands:
    def __init__(self, conn: Connection, lines: StdinLines, ended: Callable[[], None]) -> None:
        self.conn = conn
        self.lines = lines
        self.ended = ended  # the session is over: the REPL stops reading commands

    def table(self) -> dict[str, Handler]:
        return {"delete-account": self.delete_account}

    async def delete_account(self, _rest: str) -> None:
        session = self.conn.session
        if session is None:
            raise ClientError("unreachable", "not connected")
        me = session.username
        out("This deletes your account: your profile, uploads and reactions go, and every message")
        out("you sent is replaced by a tombstone sent by [deleted]. Your username stays reserved.")
        prompt(f"type your username ({me}) to confirm: ")
        typed = (await self.lines.readline() or "").strip()
        if typed.lower() != me.lower():
            out("not deleted: the username did not match")
            return
        prompt("password: ")
        with _no_echo():
            password = await self.lines.readline() or ""
        if sys.stdin.isatty():
            out("")
        try:
            answer = await api.call(
                self.conn.url, "DELETE", "/api/users/me", self.conn.token, {"password": password}
            )
        except ClientError as exc:
            if exc.code == "unauthorized":
                raise ClientError("unauthorized", "wrong password: nothing was deleted") from None
            raise
        messages = answer.get("messages") if isinstance(answer, dict) else None
        out(f"account {me} deleted; {messages} messages become tombstones. bye")
        self.ended()


@contextlib.contextmanager
def _no_echo() -> Iterator[None]:
    """The terminal does not show what is typed (a password); nothing to do for a pipe."""
    if not sys.stdin.isatty():
        yield
        return
    import termios  # POSIX only, like a terminal's echo; imported where it is needed

    fd = sys.stdin.fileno()
    before = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, before)
