"""The notifier (PROTOCOL.md section 15): decides, once per message, whom a notifying message
notifies, and hands them to each channel (Web Push here, email digests beside it).

A job (``notify_jobs``, written with the message by ``jobs.NotifySendHook``) falls due
``push_delay`` seconds after the send. The worker, one per node, takes due jobs (leased:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL and ``locked_until``, so one node decides a message;
SQLite has one worker), reads each message with its candidates (``NotificationRepository.
candidates``: the other member of a direct conversation, or the members it mentions, or every
member for ``@all``; never the sender, a member whose notify level is ``none``, who blocked the
sender or whose read mark reached the message; nobody for a deleted message), their preferences
and which of them have a socket on some node (the presence registry), then in ONE transaction
deletes the job and calls every ``Channel`` with the candidates. A job another worker finished
meanwhile (its lease ran out) is not handed on twice: its delete finds nothing and the channels
are skipped. What each channel holds back (do-not-disturb, quiet hours, an online socket, the
user's switch) is the channel's rule; the candidates carry what it needs to decide.

The worker wakes when this node wrote a job (at its due time) and polls otherwise: every ``POLL``
seconds after a look that found work, backing off to ``IDLE_POLL`` while looks find nothing (only
a job another node left can be found so). While the database is down it goes on polling and logs
the outage once per class (``server.chat.kernel.outage``); a batch that fails for another reason is
tried job by job, so only the job at fault is given up (and logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from db.notifications.repository import CandidateRecord, NotifyingRecord, PrefsRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.kernel.outage import DATABASE
from server.chat.kernel.periodic import IdlePoll, cancelled
from server.chat.notifications.jobs import Bell

log = logging.getLogger("parley.notifications")

BATCH = 64  # jobs decided per round
POLL = 1.0  # seconds between looks at the queue when nothing rang, after a look that found work
IDLE_POLL = 4.0  # ... and at most this long apart while looks find nothing (kernel.periodic.IdlePoll)

OnlineAmong = Callable[[Iterable[int]], Awaitable[set[int]]]


@dataclass(frozen=True, slots=True)
class Recipient:
    """A member a message notifies, unless a channel's rule holds it back."""

    user_id: int
    username: str
    timezone: str  # the profile's IANA name, "" for UTC
    availability: str  # the one the user chose: auto, away or dnd
    prefs: PrefsRecord
    connected: bool  # a socket on some node
    online: bool  # PROTOCOL.md section 14's "online": connected, not idle, availability auto


@dataclass(frozen=True, slots=True)
class Notifying:
    """The message, as channels need it."""

    id: int
    topic_id: int
    seq: int
    sender_id: int
    sender: str  # the username
    sender_display_name: str  # "" when none
    topic_name: str  # as stored: ``dm:<low>:<high>`` for a direct conversation
    kind: str  # public, private or direct
    body: str
    created_at: datetime


class Channel(Protocol):
    async def notify(
        self, repos: Repositories, message: Notifying, recipients: Sequence[Recipient], now: datetime
    ) -> None:
        """Write what this channel owes ``recipients`` for ``message``, in the notifier's
        transaction (which also deletes the job): rows of an outbox, never I/O."""


def notifying(record: NotifyingRecord) -> Notifying:
    return Notifying(
        record.id,
        record.topic_id,
        record.seq,
        record.sender_id,
        record.sender,
        record.sender_display_name,
        record.topic_name,
        record.kind,
        record.body,
        record.created_at,
    )


def recipient(candidate: CandidateRecord, prefs: PrefsRecord, connected: bool) -> Recipient:
    online = connected and not candidate.idle and candidate.availability == "auto"
    return Recipient(
        candidate.user_id,
        candidate.username,
        candidate.timezone,
        candidate.availability,
        prefs,
        connected,
        online,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """A job as read: its message (None when gone or deleted) and the candidates."""

    message_id: int
    message: Notifying | None
    recipients: tuple[Recipient, ...]


class Notifier:
    def __init__(
        self,
        db: Database,
        online_among: OnlineAmong,
        bell: Bell,
        *,
        lease: float = 60.0,
        single: bool,
    ) -> None:
        self.db = db
        self.online_among = online_among
        self.bell = bell
        self._poll = IdlePoll(POLL, IDLE_POLL)
        self.lease = timedelta(seconds=lease)
        self.single = single  # SQLite: the only worker; leases a killed one left are void
        self.channels: list[Channel] = []  # registered by the composition (push, email)
        self.after: list[Callable[[], None]] = []  # told when a round's rows committed (workers' bells)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None

    async def _run(self) -> None:
        outage = False
        released = not self.single
        while True:
            self.bell.event.clear()
            taken = 0
            try:
                if not released:
                    async with self.db.write() as repos:
                        await repos.notifications.release_job_leases()
                    released = True
                taken = await self.round()
            except Exception as exc:
                if DATABASE.failed(exc, "deciding notifications"):
                    outage = True
                else:
                    log.exception("deciding notifications failed; trying again")
            else:
                if outage:
                    DATABASE.recovered()
                outage = False
            if taken == BATCH:
                continue  # more may be due
            self._poll.looked(taken)
            await self._sleep()

    async def _sleep(self) -> None:
        wait = self._poll.wait
        soonest = self.bell.soonest
        if soonest is not None:
            wait = min(wait, max(0.0, (soonest - datetime.now(UTC)).total_seconds()))
            if wait == 0.0:
                self.bell.soonest = None
                return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self.bell.event.wait()
        if soonest is not None and self.bell.soonest == soonest and datetime.now(UTC) >= soonest:
            self.bell.soonest = None

    async def round(self) -> int:
        """Decide the due jobs (at most ``BATCH``): how many there were."""
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            taken = await repos.notifications.due_jobs(now, now + self.lease, BATCH)
        if not taken:
            return 0
        decisions = await self._read(taken)
        try:
            await self._hand_on(decisions)
        except Exception as exc:
            if DATABASE.failed(exc, "handing notifications on"):
                raise
            log.exception("a batch of notifications failed; deciding them one by one")
            for decision in decisions:
                await self._alone(decision)
        for told in self.after:
            told()
        return len(taken)

    async def _read(self, taken: list[int]) -> list[Decision]:
        async with self.db.read() as repos:
            messages = await repos.notifications.notifying(taken)
            candidates = await repos.notifications.candidates(list(messages.values()))
            users = sorted({c.user_id for found in candidates.values() for c in found})
            prefs = await repos.notifications.prefs_of(users)
        connected = await self.online_among(users) if users else set()
        return [
            Decision(
                message_id,
                notifying(messages[message_id]) if message_id in messages else None,
                tuple(
                    recipient(c, prefs[c.user_id], c.user_id in connected)
                    for c in candidates.get(message_id, ())
                ),
            )
            for message_id in taken
        ]

    async def _hand_on(self, decisions: Sequence[Decision]) -> None:
        """One transaction: the jobs deleted, and each channel told of those that were still
        there (one another worker finished meanwhile is not handed on twice)."""
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            ours = await repos.notifications.finish_jobs([d.message_id for d in decisions])
            for decision in decisions:
                if decision.message_id in ours and decision.message is not None and decision.recipients:
                    for channel in self.channels:
                        await channel.notify(repos, decision.message, decision.recipients, now)

    async def _alone(self, decision: Decision) -> None:
        try:
            await self._hand_on((decision,))
        except Exception as exc:
            if DATABASE.failed(exc, "handing notifications on"):
                return  # the lease ends and the job is taken again
            log.exception("a message's notifications were given up", extra={"message": decision.message_id})
            async with self.db.write() as repos:
                await repos.notifications.finish_jobs([decision.message_id])
