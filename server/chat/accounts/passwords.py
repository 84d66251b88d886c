"""Passwords people change and reset themselves (PROTOCOL.md section 19).

``change`` takes the current password and the new one and ends every other session of the user
(this one stays signed in). A reset is asked for by username or email and always answered the
same (``request_reset`` returns before it looks anything up: the lookup, the code and the mail
happen after, in a task of their own, so neither the answer nor its time says whether the
account exists); when the account has a verified email (section 15) and the server sends mail, a
link ``/#reset=<code>`` goes there, valid ``RESET_MINUTES`` and usable once (only the code's
SHA-256 is stored). ``confirm_reset`` sets the password and ends every session: the token version
moves on (every token refused, sockets closed on every node) and every session is ended. An owner
or admin may send the same mail (``admin_reset``).

Budgets: a change's wrong current passwords count as failed logins (per address and per account
name, as ``login``); reset requests are counted per address (``rate_limited``) and per account
(silently: a refused mail must not tell the account exists).

Errors: ``forbidden`` (the current password is wrong; a bot, which has no password; not an
owner or admin), ``invalid`` (a reset code unknown, used or expired), ``rate_limited``,
``not_found`` (``admin_reset`` of an unknown user), ``conflict`` (``admin_reset`` of an account
without a verified email, or on a server that sends no mail).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from db.notifications.mail import NewMail
from db.records import UserRecord
from db.uow import Database
from server.chat.accounts.schemas import PasswordChangeIn, PasswordResetConfirmIn, PasswordResetIn
from server.chat.accounts.sessions import SessionService
from server.chat.accounts.users import UserService
from server.chat.kernel.actors import Actor, Doer
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.errors import conflict, forbidden, invalid, not_found, rate_limited
from server.chat.kernel.events import SessionsRevoked
from server.chat.kernel.facts import Acted
from server.chat.rules.workspace import require_admin

log = logging.getLogger("parley.accounts")

RESET_MINUTES = 30
RESET_PATH = "/#reset="
WRONG_CURRENT = "the current password is wrong"
BAD_CODE = "this password reset link is no longer valid; ask for a new one"


class ResetComposer(Protocol):
    """Writes the reset mail (the port; ``server.adapters.mail_compose.TemplateComposer`` is it,
    the composer of section 15's mails)."""

    base_url: str  # where browsers reach Parley: the link starts with it

    def password_reset(self, to: str, username: str, link: str, minutes: int) -> str: ...


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class PasswordService:
    def __init__(
        self,
        db: Database,
        users: UserService,
        sessions: SessionService,
        composer: ResetComposer | None,
        written: Callable[[], None],
        address_limit: SharedLimit,
        account_limit: SharedLimit,
        roles: Callable[[int], str],
    ) -> None:
        self.db = db
        self.users = users
        self.sessions = sessions
        self.composer = composer  # None: the server sends no mail (a reset mails nothing)
        self.written = written  # a mail is in the outbox: the mail worker looks now
        self.address_limit = address_limit  # reset requests per client address
        self.account_limit = account_limit  # reset mails per account
        self.roles = roles  # a user's workspace role (``Roles.of``)
        self._tasks: set[asyncio.Task[None]] = set()

    async def change(self, actor: Actor, data: PasswordChangeIn, source: str = "") -> None:
        if actor.bot:
            raise forbidden("a bot has no password")
        account = actor.username.lower()
        await self.users._admit(source, account)  # a wrong current password counts as a failed login
        async with self.db.read() as repos:
            user = await repos.users.by_id(actor.id)
        ok = await self.users.hasher.verify(data.current, user.password_hash if user else None)
        if user is None or not ok:
            raise forbidden(WRONG_CURRENT)
        await self.users._give_back(source, account)
        hashed = await self.users.hasher.hash(data.new)
        async with self.db.write() as repos:
            await repos.users.update_fields(actor.id, password_hash=hashed)
            await repos.sessions.drop_resets(actor.id)
            await self.sessions.end_all(repos, actor.id, keep=actor.session_id)
            repos.note(Acted(Doer.of(actor), "user.password", actor.username))

    async def request_reset(self, data: PasswordResetIn, source: str = "") -> None:
        """Answered at once (202): the rest runs after, whatever the account."""
        wait = await self.address_limit.take(source)
        if wait > 0:
            raise rate_limited("too many password resets asked from this address; try later", wait)
        task = asyncio.create_task(self._reset_quietly(data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reset_quietly(self, data: PasswordResetIn) -> None:
        try:
            async with self.db.read() as repos:
                if data.username is not None:
                    user = await repos.users.by_name(data.username)
                else:
                    assert data.email is not None, "the schema wants one of them"
                    found = await repos.sessions.user_of_email(data.email)
                    user = None if found is None else await repos.users.by_id(found)
            if user is None or user.bot or user.disabled_at is not None or user.deleted_at is not None:
                return
            if await self.account_limit.take(str(user.id)) > 0:
                return  # told nobody: the answer was the same already
            await self._mail(user, None)
        except Exception:
            log.exception("a password reset mail could not be written")

    async def _mail(self, user: UserRecord, by: Actor | None) -> bool:
        """Write a reset link's mail to the user's verified address: False when there is none (or
        the server sends no mail)."""
        if self.composer is None:
            return False
        async with self.db.read() as repos:
            address = await repos.sessions.verified_email(user.id)
        if address is None:
            return False
        code = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        link = f"{self.composer.base_url}{RESET_PATH}{code}"
        content = self.composer.password_reset(address, user.username, link, RESET_MINUTES)
        async with self.db.write() as repos:
            await repos.sessions.add_reset(
                _digest(code), user.id, now, now + timedelta(minutes=RESET_MINUTES)
            )
            await repos.mail.enqueue(NewMail(uuid.uuid4().hex, user.id, "reset", address, content, now))
            if by is not None:
                repos.note(Acted(Doer.of(by), "user.password_reset", user.username))
        self.written()
        return True

    async def confirm_reset(self, data: PasswordResetConfirmIn) -> None:
        """Set the password of a reset code's account; every session and token signed out."""
        hashed = await self.users.hasher.hash(data.password)
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            taken = await repos.sessions.take_reset(_digest(data.code))
            if taken is None or taken[1] <= now:
                raise invalid(BAD_CODE)
            user_id = taken[0]
            user = await repos.users.by_id(user_id)
            if user is None or user.disabled_at is not None or user.deleted_at is not None:
                raise invalid(BAD_CODE)
            await repos.users.update_fields(user_id, password_hash=hashed)
            await repos.users.bump_token_version(user_id)
            await repos.sessions.drop_resets(user_id)
            await self.sessions.end_all(repos, user_id)
            repos.record(SessionsRevoked(user_id))

    async def admin_reset(self, actor: Actor, username: str) -> None:
        """An owner or admin sends the user the reset mail (``POST /api/admin/users/{name}/
        password-reset``)."""
        require_admin(self.roles(actor.id))
        async with self.db.read() as repos:
            user = await repos.users.by_name(username)
        if user is None or user.bot:
            raise not_found(f"no user named {username!r}")
        wait = await self.account_limit.take(str(user.id))
        if wait > 0:
            raise rate_limited("too many password reset mails for this account; try later", wait)
        if not await self._mail(user, actor):
            raise conflict(f"{user.username!r} has no verified email address, or this server sends no mail")

    async def stop(self) -> None:
        """Let the resets under way finish writing their mail."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
