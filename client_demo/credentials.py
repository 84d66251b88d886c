"""Who we are: a token from ``--token`` / ``PARLEY_TOKEN``, or a login.

Login is tried first; on ``unauthorized`` the account is registered when
``--register`` was given (or, interactively on a terminal, when the user says
yes). A registration that hits ``conflict`` means the name exists and the
password was wrong, reported as ``unauthorized``.

Without a password (no ``--password-stdin``, no ``--token``) a stored session is used when
there is one for the server (and ``--user``): its refresh cookie gives the token and is turned
over, the new cookie stored at once (:mod:`client_demo.session_store`). A password login or a
sign-up stores its session's cookie; ``--logout`` ends the stored session and deletes the file.

The password comes from the first line of stdin (``--password-stdin``, read
with the same reader as the REPL so no line is lost) or from a terminal
prompt, asked by ``ask_terminal`` before the event loop starts, so the
blocking ``getpass`` never stalls the loop.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field, replace

from client_demo import api
from client_demo.errors import ClientError, UsageError
from client_demo.output import err, prompt
from client_demo.session_store import SessionStore, Stored
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
    store: SessionStore | None = field(default=None)  # where the session is kept (None: nowhere)
    invite: str | None = None  # an invitation's code for the sign-up (PROTOCOL.md section 19)

    def stored(self) -> Stored | None:
        """The stored session to sign in with: one for this server (and user), and no password given."""
        if self.store is None or self.token or self.password_stdin or self.password is not None:
            return None
        return self.store.load(self.url, self.user)


class Kept:
    """A session kept in the store: each refresh turns its cookie over and stores the new one."""

    def __init__(self, who: Identity, store: SessionStore, stored: Stored) -> None:
        self.who = who
        self.store = store
        self.stored = stored

    async def token(self) -> str:
        """A new access token through the refresh cookie. ``unauthorized`` (the file deleted) when
        the session is over: signed out elsewhere, unused too long, or its cookie replayed."""
        try:
            signed = await api.refresh_session(self.who.url, self.stored.cookie, timeout=self.who.timeout)
        except ClientError as exc:
            if exc.code != "unauthorized":
                raise  # unreachable and the like: the session may well be alive
            self.store.delete()
            raise ClientError(
                "unauthorized",
                f"the stored session of {self.stored.username!r} is over ({exc.message}): "
                "sign in with the password again",
            ) from None
        if signed.cookie is not None:
            self.stored = replace(self.stored, cookie=signed.cookie)
            try:
                self.store.save(self.stored)
            except OSError as exc:  # the old cookie is spent: the next start needs the password
                err(f"notice: could not keep the session in {self.store.path}: {exc}")
        return signed.token


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
    if who.token or who.stored() is not None:
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
    token, _kept = await sign_in(who, lines)
    return token


async def sign_in(who: Identity, lines: StdinLines) -> tuple[str, Kept | None]:
    """A token for ``who`` and the session kept for it, if any (a ``--token`` keeps none)."""
    if who.token:
        return who.token, None
    stored = who.stored()
    if stored is not None and who.store is not None:
        kept = Kept(who, who.store, stored)
        return await kept.token(), kept
    if not who.user:
        raise UsageError("give --user NAME (or --token / PARLEY_TOKEN)")
    password = who.password if who.password is not None else await _stdin_password(lines)
    try:
        signed = await api.login_session(who.url, who.user, password, timeout=who.timeout)
    except ClientError as exc:
        if exc.code != "unauthorized" or not await _want_register(who, lines):
            raise
        try:
            signed = await api.register_session(
                who.url, who.user, password, timeout=who.timeout, invite=who.invite
            )
        except ClientError as exc:
            if exc.code == "conflict":
                raise ClientError("unauthorized", f"wrong password for {who.user!r}") from None
            raise
    return signed.token, _keep(who, who.user, signed)


def _keep(who: Identity, username: str, signed: api.Signed) -> Kept | None:
    """Store the session a password sign-in opened (none if the server set no cookie)."""
    if who.store is None or signed.cookie is None:
        return None
    stored = Stored(who.url, username, signed.cookie)
    try:
        who.store.save(stored)
    except OSError as exc:
        err(f"notice: could not keep the session in {who.store.path}: {exc}")
        return None
    return Kept(who, who.store, stored)


async def logout(who: Identity) -> str:
    """``--logout``: end the stored session on the server and delete the file; what to say."""
    if who.store is None:
        return "no session is stored"
    stored = who.store.load(who.url, who.user)
    if stored is None:
        return f"no stored session for {who.url}" + (f" as {who.user!r}" if who.user else "")
    try:
        await api.logout_session(who.url, stored.cookie, timeout=who.timeout)
    except ClientError as exc:
        if exc.code != "unauthorized":
            raise  # the server is not reached: the file stays, to try again
        who.store.delete()
        return f"the session of {stored.username!r} had ended already; forgotten"
    who.store.delete()
    return f"signed out {stored.username!r}; the stored session is deleted"


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
