"""The retention sweep (PROTOCOL.md section 16): messages older than the effective retention are
deleted for good, in small batches.

The effective retention of a topic is the shorter of its own ``retention_days`` and the server's
``PARLEY_RETENTION_DAYS`` (either may be unset; both unset: kept for ever). A topic may not be given
a longer one than the server's (``topic:update`` answers ``invalid``), and a server setting lowered
later still caps the topics that were given more.

A round first takes the cluster's lock (``Database.exclusive``: a PostgreSQL advisory lock on a
connection of its own; a node that finds it held skips its round), then deletes every topic's
messages older than the server's cutoff (oldest first, across topics) and, for each topic with a
shorter retention of its own, that topic's older ones. Each batch is one write transaction
(``db.retention.repository``: the messages and everything they own), sized to hold the write
lock about ``TARGET`` (halved after a batch that took longer, grown by half after one that took
less than half of it, between ``SMALLEST`` and ``batch`` messages), and sends go on between
batches; a sweep killed at any point has committed whole batches only, and the next round (on
this node or another) goes on from the rows as they are. The blobs of files no remaining message
uses are removed after each batch's commit through the files capability (``FileService.release``).

The time is the injectable ``clock``'s, so tests move it instead of waiting for days.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from db.retention.repository import RetentionRepository
from db.uow import Database
from server.chat.files.service import FileService
from server.chat.kernel.periodic import Periodic

log = logging.getLogger("parley.retention")
RETENTION_LOCK = 0x50A7_11E0_0016  # PostgreSQL advisory lock: one node sweeps at a time
BATCH = 500  # messages per write transaction, at most
SMALLEST = 100  # below this a batch's fixed cost (a dozen statements) outweighs what it deletes
TARGET = 0.04  # seconds a batch's write transaction should take (well under the 100 ms bound)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Swept:
    """What a round did: messages deleted, batches committed, the longest batch's write
    transaction (seconds, from its start to the end of its commit), and whether another node held
    the lock (nothing done)."""

    messages: int = 0
    batches: int = 0
    longest: float = 0.0
    skipped: bool = False
    held: list[float] = field(default_factory=list)

    def add(self, count: int, seconds: float) -> None:
        self.messages += count
        self.batches += 1
        self.longest = max(self.longest, seconds)
        self.held.append(seconds)


class RetentionSweep:
    def __init__(
        self,
        db: Database,
        days: int | None,
        files: FileService | None = None,
        *,
        interval: float = 300.0,
        clock: Clock = utc_now,
        batch: int = BATCH,
    ) -> None:
        self.db = db
        self.days = days  # PARLEY_RETENTION_DAYS (None: topics without their own keep everything)
        self.files = files
        self.clock = clock
        self.batch = batch
        self._periodic = Periodic(self._round, interval, "the retention sweep")

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def _round(self) -> None:
        swept = await self.sweep()
        if swept.messages:
            log.info("retention swept %d messages in %d batches", swept.messages, swept.batches)

    async def sweep(self, now: datetime | None = None) -> Swept:
        """One round at ``now`` (default: the clock's time)."""
        now = now or self.clock()
        swept = Swept()
        async with self.db.exclusive(RETENTION_LOCK) as mine:
            if not mine:
                swept.skipped = True
                return swept
            for topic_id, days in await self._plan():
                await self._drain(topic_id, now - timedelta(days=days), swept)
        return swept

    async def _plan(self) -> list[tuple[int | None, int]]:
        """What to sweep: every topic by the server's days (``None``), then each topic whose own
        retention is shorter."""
        async with self.db.read() as repos:
            own = await repos.of(RetentionRepository).own_retentions()
        plan: list[tuple[int | None, int]] = [] if self.days is None else [(None, self.days)]
        plan.extend((topic, days) for topic, days in own if self.days is None or days < self.days)
        return plan

    async def _drain(self, topic_id: int | None, before: datetime, swept: Swept) -> None:
        """Batches until one comes back short: each its own transaction, its blobs after it."""
        size = min(self.batch, 200)
        while True:
            started = time.perf_counter()
            async with self.db.write() as repos:
                ids = await repos.of(RetentionRepository).oldest(before, size, topic_id)
                batch = await repos.of(RetentionRepository).sweep(ids)
            held = time.perf_counter() - started
            if ids:
                swept.add(len(ids), held)
            if batch.sha256s and self.files is not None:
                await self.files.release(list(batch.sha256s))
            if len(ids) < size:
                return
            size = _next_size(size, held, self.batch)
            await asyncio.sleep(0)  # the sends waiting for the write lock go first


def _next_size(size: int, held: float, most: int) -> int:
    """The next batch's size after one of ``size`` messages held the write lock ``held`` seconds."""
    if held > TARGET:
        return min(most, max(SMALLEST, size // 2))
    if held < TARGET / 2:
        return min(most, size + max(1, size // 2))
    return size
