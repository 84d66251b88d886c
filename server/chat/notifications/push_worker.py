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

It wakes when the notifier on this node wrote rows (``wake``) and polls every ``POLL`` seconds
otherwise; while the database is down it goes on polling and logs the outage once per class.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from db.repositories.push import FAILED, OK, PENDING, DuePush
from db.uow import Database
from server.chat.kernel.outage import DATABASE
from server.chat.kernel.outbound import AddressRefused, DeliveryFailed, retry_delay, retryable
from server.chat.kernel.periodic import cancelled
from server.chat.notifications.ports import PushSender

log = logging.getLogger("parley.push")

CONCURRENT = 16  # pushes in flight per node
POLL = 1.0  # seconds between looks at the outbox when nothing rang
GONE = (404, 410)  # the push service forgot the subscription


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
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await cancelled(self._task, *self._inflight)
        self._task = None
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
                if free > 0:
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
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL):
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
            await self._attempt(row)
        except Exception as exc:  # the lease ends and the row is taken again
            if not DATABASE.failed(exc, "recording a push"):
                log.exception("a push could not be recorded", extra={"push": row.id})

    async def _attempt(self, row: DuePush) -> None:
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
                async with self.db.write() as repos:
                    await repos.push.unsubscribe(row.subscription_id)
                return
            elif not retryable(response.code):
                status = FAILED
        await self._record(row, status)

    async def _record(self, row: DuePush, status: str) -> None:
        now = datetime.now(UTC)
        next_at = None
        if status == PENDING:
            created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
            if now - created >= self.give_up:
                status = FAILED
            else:
                next_at = now + timedelta(seconds=retry_delay(row.attempts + 1, self.retry_base))
        async with self.db.write() as repos:
            await repos.push.attempted(row.id, status, next_at)
