"""Email digests (PROTOCOL.md section 15): what a user missed, in one mail, once they are away.

The email channel (``EmailChannel``) keeps a row per notifying message and recipient with a
verified address and email on (``email_pending``, due ``email_delay`` after the message). A sweep
every few seconds (on PostgreSQL on one node at a time: an advisory lock) takes the users with due
rows and, for each in one transaction, writes one digest when:

- the user has no socket anywhere (the presence registry) and had none for ``email_delay``
  (``users.last_seen_at``, stored when their last socket anywhere closed);
- their last digest is ``email_digest_minutes`` old (``last_digest_at``);
- nothing holds notifications back (do-not-disturb, quiet hours: ``rules.held_back``); the rows
  wait for later then.

It drops the rows of messages read meanwhile (the read mark at or past their ``seq``), deleted, or
in a conversation the user left; lists the rest (at most ``LISTED``, grouped by conversation,
sender and the first ``EXCERPT`` characters, a link each, and an unsubscribe link valid
``UNSUBSCRIBE_TTL`` for the current version of the email setting), sets ``last_digest_at`` and
deletes the rows. With email off or the address unverified the rows are dropped: only a verified
address gets mail.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from db.notifications.mail import NewMail, PendingMessage
from db.notifications.repository import PrefsRecord
from db.records import UserRecord
from db.repositories import Repositories
from db.times import utc
from db.uow import Database
from server.chat.kernel.periodic import Periodic
from server.chat.notifications.email import UNSUBSCRIBE_PATH, link
from server.chat.notifications.mail import Composer, Digest, DigestGroup, DigestItem
from server.chat.notifications.notifier import Notifying, Recipient
from server.chat.notifications.rules import held_back
from server.chat.notifications.tokens import UNSUBSCRIBE_TTL, MailTokens

SWEEP = 1.0  # seconds between looks for due rows (an indexed query)
BATCH = 200  # users per look
LISTED = 20  # messages a digest lists
EXCERPT = 200  # characters of each body
DIGEST_LOCK = 0x50A7_11E0_0015  # PostgreSQL advisory lock: one node sweeps at a time

OnlineAmong = Callable[[Iterable[int]], Awaitable[set[int]]]


def conversation_name(pending: PendingMessage) -> str:
    """The conversation as its member sees it: a topic's name, or ``@sender`` for a direct one."""
    return "@" + pending.sender if pending.topic_kind == "direct" else pending.topic_name


def message_link(base_url: str, pending: PendingMessage) -> str:
    return f"{base_url}/#topic={quote(conversation_name(pending), safe='')}&message={pending.message_id}"


def unread(pending: Sequence[PendingMessage]) -> list[PendingMessage]:
    """What still deserves a mail: not deleted, not read, in a conversation the user is still in."""
    return [p for p in pending if not p.deleted and p.read_seq is not None and p.read_seq < p.seq]


def groups_of(base_url: str, listed: Sequence[PendingMessage]) -> tuple[DigestGroup, ...]:
    """By conversation, in the order of each one's oldest message."""
    grouped: dict[int, list[PendingMessage]] = {}
    for pending in listed:
        grouped.setdefault(pending.topic_id, []).append(pending)
    return tuple(
        DigestGroup(
            conversation_name(items[0]),
            tuple(
                DigestItem(p.sender, p.sender_display_name, p.body[:EXCERPT], message_link(base_url, p))
                for p in items
            ),
        )
        for items in grouped.values()
    )


class DigestSweep:
    def __init__(
        self,
        db: Database,
        online_among: OnlineAmong,
        composer: Composer,
        tokens: MailTokens,
        delay: float,
        written: Callable[[], None],
    ) -> None:
        self.db = db
        self.online_among = online_among
        self.composer = composer
        self.tokens = tokens
        self.delay = timedelta(seconds=delay)
        self.written = written
        self.periodic = Periodic(self.sweep, SWEEP, "writing email digests")

    async def sweep(self) -> None:
        """One look: every user with due rows, ``BATCH`` at a time (users still connected keep
        their rows, and must not hide those after them)."""
        async with self.db.exclusive(DIGEST_LOCK) as held:
            if not held:
                return  # another node sweeps now
            now, after, wrote = datetime.now(UTC), 0, False
            while True:
                async with self.db.read() as repos:
                    users = await repos.mail.due_users(now, after, BATCH)
                online = await self.online_among(users) if users else set()
                for user_id in users:
                    if user_id not in online:
                        wrote = await self.digest(user_id, now) or wrote
                if wrote:
                    self.written()
                if len(users) < BATCH:
                    return
                after, wrote = users[-1], False

    async def digest(self, user_id: int, now: datetime) -> bool:
        """The user's digest, if it is time (one transaction); whether a mail was written."""
        async with self.db.write() as repos:
            user = await repos.users.by_id(user_id)
            prefs = await repos.notifications.prefs(user_id)
            if user is None or not _mailable(user, prefs):
                await repos.mail.drop_pending(user_id, now)
                return False
            if not self._due(user, prefs, now):
                return False  # the rows wait
            pending = unread(await repos.mail.pending_of(user_id, now))
            await repos.mail.drop_pending(user_id, now)
            if not pending:
                return False
            assert prefs.email_address is not None
            await self._write(repos, user, prefs, pending, now)
        return True

    def _due(self, user: UserRecord, prefs: PrefsRecord, now: datetime) -> bool:
        if user.last_seen_at is not None and utc(user.last_seen_at) > now - self.delay:
            return False  # a socket closed less than ``email_delay`` ago
        spacing = timedelta(minutes=prefs.email_digest_minutes)
        if prefs.last_digest_at is not None and utc(prefs.last_digest_at) + spacing > now:
            return False
        return not held_back(user.availability, prefs, user.timezone, now)

    async def _write(
        self,
        repos: Repositories,
        user: UserRecord,
        prefs: PrefsRecord,
        pending: list[PendingMessage],
        now: datetime,
    ) -> None:
        base, to = self.composer.base_url, prefs.email_address
        assert to is not None, "checked by _mailable"
        token = self.tokens.unsubscribe(user.id, prefs.email_version, now + UNSUBSCRIBE_TTL)
        digest = Digest(
            username=user.username,
            groups=groups_of(base, pending[:LISTED]),
            more=max(0, len(pending) - LISTED),
            unsubscribe=link(base, UNSUBSCRIBE_PATH, token),
            settings=f"{base}/",
        )
        content = self.composer.digest(to, digest)
        await repos.mail.enqueue(NewMail(uuid.uuid4().hex, user.id, "digest", to, content, now))
        await repos.mail.digested(user.id, now)


def _mailable(user: UserRecord, prefs: PrefsRecord) -> bool:
    return _mailable_prefs(prefs) and user.disabled_at is None and user.deleted_at is None


class EmailChannel:
    """A ``notifier.Channel``: each recipient with email on and a verified address gets a row
    waiting for their digest, due ``email_delay`` after the message. Whether they are connected,
    held back or read it is the digest's to see when the row falls due, not the notifier's now."""

    def __init__(self, delay: float) -> None:
        self.delay = timedelta(seconds=delay)

    async def notify(
        self,
        repos: Repositories,
        message: Notifying,
        recipients: Sequence[Recipient],
        now: datetime,  # noqa: ARG002 (the channel's signature; the rows are due from the send)
    ) -> None:
        due = utc(message.created_at) + self.delay
        rows = [(r.user_id, message.id, due) for r in recipients if _mailable_prefs(r.prefs)]
        await repos.mail.pend(rows)


def _mailable_prefs(prefs: PrefsRecord) -> bool:
    return prefs.email and prefs.email_address is not None and prefs.email_verified_at is not None
