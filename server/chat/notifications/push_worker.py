"""The push worker: drains the push outbox (PROTOCOL.md section 15), one per node, like the
webhooks' delivery worker (section 12) and with its rules (``server.chat.kernel.outbound``).

It takes due rows (``pending``, ``next_at`` passed; leased: ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL and ``locked_until``, so one node sends a given row; SQLite has one worker, which voids
the leases a killed process left when it starts), at most ``CONCURRENT`` in flight, and hands
each to the ``PushSender`` (encryption, VAPID and the guarded POST live in
``server.adapters.webpush``). Taking a row drops it instead when its push is no longer owed: the
message deleted or read up to by the recipient meanwhile (``PushRepository.due``).

Outcomes: a 2xx is ``ok`` (recorded: never sent again); a timeout, a connection error, a 5xx,
408 or 429 is tried again after ``retry_delay`` until ``give_up`` seconds passed since the row
was written (then ``failed``); 404 or 410 means the subscription expired: it is removed with
the pushes it still owes; any other answer, or an address the guard refuses, is ``failed``. A
push sent but not recorded (a crash in between) is sent again once its lease ends: at least
once, and once after a 2xx that was recorded.

Outcomes are recorded in batches, as group commit stores sends: one transaction for every
outcome that came in while the previous one was written (a push service answers far faster than
SQLite commits one transaction per push). It wakes when the notifier on this node wrote rows
(``wake``), when a retry it recorded falls due (a timer at its ``next_at``: a retry in a tenth of
a second is not left to a poll seconds away), and polls otherwise (every ``POLL`` seconds after a
look that found work, backing off to ``IDLE_POLL`` while looks find nothing: rows another node
left, retries another node recorded); while the database is down it goes on polling, keeps the
outcomes to record, and logs the outage once per class.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from db.notifications.push import FAILED, OK, PENDING, DuePush
from db.uow import Database
from server.chat.kernel.outage import DATABASE
from server.chat.kernel.outbound import AddressRefused, DeliveryFailed, retry_delay, retryable
from server.chat.kernel.periodic import DueWakeups, IdlePoll, cancelled
from server.chat.notifications.ports import PushSender

log = logging.getLogger("parley.push")

CONCURRENT = 32  # pushes in flight per node
REFILL = CONCURRENT // 2  # free slots before more rows are taken (not a claim transaction per push)
POLL = 1.0  # seconds between looks at the outbox when nothing rang, after a look that found work
IDLE_POLL = 4.0  # ... and at most this long apart while looks find nothing (kernel.periodic.IdlePoll)
GONE = (404, 410)  # the push service forgot the subscription
GONE_STATUS = "gone"  # an outcome: the subscription is removed, with the pushes it still owes


@dataclass(frozen=True, slots=True)
class Outcome:
    push_id: str
    subscription_id: str
    status: str  # ok, failed, pending (tried again at ``next_at``) or gone
    next_at: datetime | None = None


class PushWorker:
    def __init__(
        self,
        db: Database,
        sender: PushSender,
        *,
        retry_base: float,
        give_up: float,
        lease: float,
        single: bool,
    ) -> None:
        self.db = db
        self.sender = sender
        self.retry_base = retry_base
        self.give_up = timedelta(seconds=give_up)
        self.lease = timedelta(seconds=lease)  # longer than a push may take
        self.single = single
        self.sent = 0  # pushes a push service accepted from this node (the tests and the bench read it)
        self._wake = asyncio.Event()
        self.poll = IdlePoll(POLL, IDLE_POLL)
        self._retries = DueWakeups(self._wake.set)  # the retries recorded here, when they fall due
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._outcomes: list[Outcome] = []  # to record
        self._outcome = asyncio.Event()
        self._recorder: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        self._recorder = asyncio.create_task(self._record_loop())

    async def stop(self) -> None:
        self._retries.cancel()
        await cancelled(self._task, *self._inflight, self._recorder)
        self._task = self._recorder = None
        if self._outcomes:  # what was answered is recorded if the database lets us
            with contextlib.suppress(Exception):
                await self._write(self._outcomes)
        await self.sender.close()

    async def _run(self) -> None:
        outage = False
        released = not self.single
        while True:
            self._wake.clear()
            free = CONCURRENT - len(self._inflight)
            taken = 0
            try:
                if not released:
                    async with self.db.write() as repos:
                        await repos.push.release_leases()
                    released = True
                if free >= REFILL or (free > 0 and not self._inflight):
                    taken = self._start(await self._due(free))
            except Exception as exc:
                if DATABASE.failed(exc, "taking due pushes"):
                    outage = True
                else:
                    log.exception("taking due pushes failed; trying again")
            else:
                if outage:
                    DATABASE.recovered()
                outage = False
            if taken and taken == free:
                continue  # more may be due
            self.poll.looked(taken or len(self._inflight))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll.wait):
                    await self._wake.wait()

    async def _due(self, limit: int) -> list[DuePush]:
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            return await repos.push.due(now, now + self.lease, limit)

    def _start(self, rows: list[DuePush]) -> int:
        for row in rows:
            task = asyncio.create_task(self._push(row))
            self._inflight.add(task)
            task.add_done_callback(self._done)
        return len(rows)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free

    async def _push(self, row: DuePush) -> None:
        try:
            outcome = await self._attempt(row)
        except Exception:  # a bug: the lease ends and the row is taken again
            log.exception("a push failed", extra={"push": row.id})
            return
        self._outcomes.append(outcome)
        self._outcome.set()

    async def _attempt(self, row: DuePush) -> Outcome:
        status = PENDING
        try:
            response = await self.sender.send(row.endpoint, row.p256dh, row.auth, row.payload.encode())
        except AddressRefused as exc:
            log.warning("a push endpoint was refused", extra={"push": row.id, "error": str(exc)})
            status = FAILED
        except DeliveryFailed as exc:
            log.info("a push got no answer", extra={"push": row.id, "error": str(exc)})
        else:
            if 200 <= response.code < 300:
                status = OK
                self.sent += 1
            elif response.code in GONE:
                status = GONE_STATUS
            elif not retryable(response.code):
                status = FAILED
        if status != PENDING:
            return Outcome(row.id, row.subscription_id, status)
        now = datetime.now(UTC)
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        if now - created >= self.give_up:
            return Outcome(row.id, row.subscription_id, FAILED)
        next_at = now + timedelta(seconds=retry_delay(row.attempts + 1, self.retry_base))
        return Outcome(row.id, row.subscription_id, PENDING, next_at)

    async def _record_loop(self) -> None:
        outage = False
        while True:
            await self._outcome.wait()
            self._outcome.clear()
            batch, self._outcomes = self._outcomes, []
            try:
                await self._write(batch)
                self._retries.at(*(outcome.next_at for outcome in batch))
            except asyncio.CancelledError:
                self._outcomes[:0] = batch  # the stop records them
                raise
            except Exception as exc:
                self._outcomes[:0] = batch  # kept: recorded with the next batch
                if DATABASE.failed(exc, "recording pushes"):
                    outage = True
                else:
                    log.exception("recording pushes failed; trying again")
                await asyncio.sleep(POLL)
                self._outcome.set()
            else:
                if outage:
                    DATABASE.recovered()
                outage = False

    async def _write(self, batch: list[Outcome]) -> None:
        """Every outcome in one transaction: the finished rows with one statement per status."""
        finished: dict[str, list[str]] = {}
        async with self.db.write() as repos:
            for outcome in batch:
                if outcome.status == GONE_STATUS:
                    await repos.push.unsubscribe(outcome.subscription_id)
                elif outcome.status == PENDING:
                    await repos.push.attempted(outcome.push_id, PENDING, outcome.next_at)
                else:
                    finished.setdefault(outcome.status, []).append(outcome.push_id)
            for status, ids in finished.items():
                await repos.push.finished(ids, status)
