"""The export worker: one per node, it builds pending exports (PROTOCOL.md section 16), one at a
time, and survives restarts: an export is a row until its ZIP is ``ready``, so one left pending by
a stop or a crash is taken again.

It takes the oldest pending export not leased (``ExportRepository.claim``: ``FOR UPDATE SKIP
LOCKED`` and ``locked_until`` on PostgreSQL, so one node builds a given export; SQLite has one
worker, which voids the leases a killed process left when it starts). The ZIP is written by the
``Archive`` in a thread, a page of rows at a time (``builder``). A build that fails is tried again
after its lease is released, ``ATTEMPTS`` times in all, then the export is ``failed`` (the user
may ask again at once); one the database's outage stopped is taken again once it is back. It
wakes when a request on this node was stored (``wake``) and polls otherwise, first after ``POLL``
seconds and backing off to ``IDLE_POLL`` while there is nothing: requests stored on another node.
Each look is a read; only a look that found one writes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from db.exports.repository import FAILED, READY, ExportRecord, ExportRepository
from db.uow import Database
from server.chat.exports.builder import Builder
from server.chat.exports.clock import Clock
from server.chat.exports.ports import Archive, ExportStore
from server.chat.files.service import FileStore
from server.chat.kernel.outage import DATABASE
from server.chat.kernel.periodic import IdlePoll, QueueLoop

log = logging.getLogger("parley.exports")

POLL = 1.0
IDLE_POLL = 8.0
LEASE = timedelta(minutes=30)  # longer than an export takes to build
ATTEMPTS = 3


class ExportWorker:
    def __init__(
        self, db: Database, store: ExportStore, files: FileStore | None, clock: Clock, *, single: bool
    ) -> None:
        self.db = db
        self.store = store
        self.files = files
        self.clock = clock
        self.single = single
        self.built = 0  # exports this node finished (the tests read it)
        self._owed: set[str] = set()  # exports an outage stopped: their leases end once it is over
        self._loop = QueueLoop(
            self._round,
            IdlePoll(POLL, IDLE_POLL),
            "taking pending exports",
            prepare=self._release if single else None,
        )

    def wake(self) -> None:
        self._loop.ring()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _release(self) -> None:
        """SQLite: the only worker; the leases a killed process left are void."""
        async with self.db.write() as repos:
            await repos.of(ExportRepository).release_leases()

    async def _round(self) -> int:
        if self._owed:
            async with self.db.write() as repos:
                for export_id in self._owed:
                    await repos.of(ExportRepository).retry(export_id)
            self._owed.clear()
        return 1 if await self.once() else 0

    async def once(self) -> bool:
        """Take one pending export and build it; False when there was none to take."""
        now = self.clock.now()
        async with self.db.read() as repos:
            waiting = await repos.of(ExportRepository).waiting(now)
        if not waiting:
            return False
        async with self.db.write() as repos:
            export = await repos.of(ExportRepository).claim(now, now + LEASE)
        if export is None:  # another node took it meanwhile
            return False
        await self._build(export)
        return True

    async def _build(self, export: ExportRecord) -> None:
        archive: Archive | None = None
        try:
            archive = self.store.create(export.id)
            await Builder(self.db, self.files, export.user_id).write(archive)
            size = await archive.close()
        except asyncio.CancelledError:
            if archive is not None:
                await asyncio.shield(archive.discard())  # built again after the restart
            raise
        except Exception as exc:
            if archive is not None:
                await archive.discard()
            if await self._database_down():  # not the export's fault: built again once it is back
                DATABASE.failed(exc, "building an export")
                self._owed.add(export.id)
            else:
                await self._failed(export, exc)
            return
        async with self.db.write() as repos:
            await repos.of(ExportRepository).finish(export.id, READY, self.clock.now(), size=size)
        self.built += 1
        log.info("an export is ready", extra={"export": export.id, "size": size})

    async def _database_down(self) -> bool:
        """Whether the database fails to answer now: a build's error is then the outage's (the
        error alone cannot say: a full disk and a lost connection are both an ``OSError``)."""
        try:
            await self.db.ping()
        except Exception:
            return True
        return False

    async def _failed(self, export: ExportRecord, exc: Exception) -> None:
        log.warning("building an export failed", exc_info=exc, extra={"export": export.id})
        async with self.db.write() as repos:
            if export.attempts >= ATTEMPTS:
                await repos.of(ExportRepository).finish(
                    export.id, FAILED, self.clock.now(), error=str(exc)[:500]
                )
            else:
                await repos.of(ExportRepository).retry(export.id)
