"""A user's email address and the links of mails (PROTOCOL.md section 15).

``PUT /api/users/me/email`` stores the address unverified and writes the verification mail to the
outbox in the same transaction; its link (``/api/users/me/email/verify?token=``, 24 hours) is
opened from a mail client, without signing in: the signed token is the proof. A link works once,
and only the latest one: the token carries a nonce kept with the address and used up by the
verification, so a second use, or a link for an address replaced since, is refused. The
unsubscribe link of every digest (RFC 8058) turns email off, also without signing in, but only by
a ``POST``: opening it (a ``GET``, which mail scanners and link previews do unasked) changes
nothing and shows a button that posts. It is valid ``UNSUBSCRIBE_TTL`` (60 days) and carries the
version of the user's email setting, which turning email back on bumps: an older link is refused.

A user may have ``VERIFY_PER_HOUR`` verification mails sent an hour (a burst of as many): the
endpoint sends mail to any address given, so it must not become a way to flood one.

Errors: ``invalid`` (a bad address, or a server without SMTP settings), ``rate_limited``.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import quote

from db.notifications.mail import NewMail
from db.repositories import Repositories
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.errors import invalid, rate_limited
from server.chat.notifications.mail import Composer
from server.chat.notifications.preferences import prefs_view
from server.chat.notifications.schemas import EmailIn, NotificationPrefsOut
from server.chat.notifications.tokens import VERIFY_TTL, LinkRefused, MailTokens

VERIFY_PATH = "/api/users/me/email/verify"
UNSUBSCRIBE_PATH = "/api/notifications/unsubscribe"
VERIFY_PER_HOUR = 5


class Unsubscribe(StrEnum):
    """What an unsubscribe link does, or would do."""

    VALID = "valid"  # a good link, not used yet (opened: the page asks to confirm)
    OFF = "off"  # email is off now
    EXPIRED = "expired"  # older than ``UNSUBSCRIBE_TTL``
    REPLACED = "replaced"  # from before email was turned back on
    REFUSED = "refused"  # not a link of ours


class Verified(StrEnum):
    """What opening a verification link did."""

    VERIFIED = "verified"
    EXPIRED = "expired"  # older than 24 hours
    REFUSED = "refused"  # not a link of ours, used already, or for an address replaced since


def link(base_url: str, path: str, token: str) -> str:
    return f"{base_url}{path}?token={quote(token, safe='')}"


AddressCheck = Callable[[Repositories, str], Awaitable[None]]
"""Refuses an email address a user asks for (raises), reading what it needs in ``repos``."""


class EmailService:
    def __init__(
        self,
        db: Database,
        tokens: MailTokens,
        composer: Composer | None,
        written: Callable[[], None],
        limit: SharedLimit,
    ) -> None:
        self.db = db
        self.limit = limit  # verification mails per user
        self.tokens = tokens
        self.composer = composer  # None: the server has no SMTP settings, email is off
        self.written = written  # a mail is in the outbox: the worker looks now
        # Checks an address must pass before it is stored (the workspace's allowed domains,
        # PROTOCOL.md section 19), each raising its ``ChatError``; in the storing transaction.
        self.address_checks: list[AddressCheck] = []

    async def set_address(self, actor: Actor, data: EmailIn) -> NotificationPrefsOut:
        """Store the address unverified and send it the verification link; an address the
        ``address_checks`` refuse changes nothing (``forbidden`` outside the allowed domains)."""
        if self.composer is None:
            raise invalid("this server sends no email (it has no SMTP settings)")
        wait = await self.limit.take(str(actor.id))
        if wait > 0:
            raise rate_limited(f"at most {VERIFY_PER_HOUR} verification mails an hour", wait)
        now = datetime.now(UTC)
        nonce = secrets.token_hex(16)
        token = self.tokens.verification(actor.id, data.email, nonce, now + VERIFY_TTL)
        content = self.composer.verification(
            data.email, actor.username, link(self.composer.base_url, VERIFY_PATH, token)
        )
        async with self.db.write() as repos:
            for check in self.address_checks:
                await check(repos, data.email)
            await repos.mail.request_address(actor.id, data.email, nonce)
            await repos.mail.enqueue(NewMail(uuid.uuid4().hex, actor.id, "verify", data.email, content, now))
            prefs = await repos.notifications.prefs(actor.id)
        self.written()
        return prefs_view(prefs, True)

    async def verify(self, token: str) -> Verified:
        try:
            claims = self.tokens.read_verification(token)
        except LinkRefused as exc:
            return Verified.EXPIRED if exc.expired else Verified.REFUSED
        async with self.db.write() as repos:
            done = await repos.mail.verify_address(
                claims.user_id, claims.address, claims.nonce, datetime.now(UTC)
            )
        return Verified.VERIFIED if done else Verified.REFUSED

    async def unsubscribe_link(self, token: str) -> Unsubscribe:
        """What the link would do, changing nothing (a ``GET``: mail scanners open every link)."""
        return await self._unsubscribe(token, write=False)

    async def unsubscribe(self, token: str) -> Unsubscribe:
        """Turn email off for the link's user (the one-click ``POST``), unless the link is refused."""
        return await self._unsubscribe(token, write=True)

    async def _unsubscribe(self, token: str, write: bool) -> Unsubscribe:
        try:
            link = self.tokens.read_unsubscribe(token)
        except LinkRefused as exc:
            return Unsubscribe.EXPIRED if exc.expired else Unsubscribe.REFUSED
        async with self.db.write() if write else self.db.read() as repos:
            if await repos.users.by_id(link.user_id) is None:
                return Unsubscribe.REFUSED
            if (await repos.notifications.prefs(link.user_id)).email_version != link.version:
                return Unsubscribe.REPLACED
            if write:
                await repos.notifications.set_email_on(link.user_id, False)
        return Unsubscribe.OFF if write else Unsubscribe.VALID
