"""Exports for the transports (PROTOCOL.md section 16): ask for one, see where one is, and the
housekeeping pass that removes them after ``KEEP``.

A user may ask once an hour (``EVERY``), counted from the requests stored, so the limit holds
across nodes and restarts; a failed export does not count (asking again is the way out). On
PostgreSQL a request first locks the user's row: two requests at once on two nodes cannot both
pass. Only the user who asked sees an export: anyone else's id is ``not_found``, word for word as
an unknown one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from db.exports.repository import FAILED, PENDING, READY, ExportRecord, ExportRepository
from db.times import utc
from db.uow import Database
from server.chat.exports.clock import Clock
from server.chat.exports.ports import ExportStore
from server.chat.exports.schemas import ExportCreated, ExportState
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode, conflict, not_found
from server.chat.kernel.periodic import Periodic

log = logging.getLogger("parley.exports")

EVERY = timedelta(hours=1)  # at most one export an hour per user
KEEP = timedelta(days=7)  # an export (its ZIP and its row) is removed this long after it was asked for
SWEEP_INTERVAL = 600.0  # seconds between two removal passes of one node
BATCH = 100  # exports removed per transaction


def _no_export(export_id: str) -> ChatError:
    return not_found(f"no export with id {export_id!r}")


class ExportService:
    def __init__(self, db: Database, store: ExportStore, clock: Clock, wake: Callable[[], None]) -> None:
        self.db = db
        self.store = store
        self.clock = clock
        self._wake = wake  # the worker on this node: build it now
        self.sweep = Periodic(self._sweep, SWEEP_INTERVAL, "removing old exports")

    async def request(self, actor: Actor) -> ExportCreated:
        """Ask for an export of the actor's data; ``rate_limited`` within an hour of the last one."""
        now = self.clock.now()
        async with self.db.write() as repos:
            await repos.of(ExportRepository).lock_user(actor.id)
            last = await repos.of(ExportRepository).latest(actor.id)
            if last is not None and last.state != FAILED:
                since = now - utc(last.requested_at)
                if since < EVERY:
                    wait = (EVERY - since).total_seconds()
                    raise ChatError(ErrorCode.RATE_LIMITED, "one export an hour; try later", retry_after=wait)
            export_id = uuid.uuid4().hex
            await repos.of(ExportRepository).add(ExportRecord(export_id, actor.id, PENDING, now))
        self._wake()
        return ExportCreated(id=export_id)

    async def state(self, actor: Actor, export_id: str) -> ExportState:
        """Where the actor's export ``export_id`` is: pending, or ready with its ZIP; a failed one
        is ``conflict`` (ask for another). One asked for ``KEEP`` ago or more is ``not_found`` at
        once, whether or not the sweep (every ``SWEEP_INTERVAL``) has removed it yet."""
        async with self.db.read() as repos:
            record = await repos.of(ExportRepository).get(export_id)
        if record is None or record.user_id != actor.id or self._expired(record):
            raise _no_export(export_id)
        if record.state == FAILED:
            raise conflict("the export could not be built; ask for a new one")
        if record.state == READY:
            path = self.store.path(record.id)
            if path is None:  # removed meanwhile
                raise _no_export(export_id)
            return ExportState(record.id, READY, path, record.size)
        return ExportState(record.id, PENDING)

    def _expired(self, record: ExportRecord) -> bool:
        return self.clock.now() - utc(record.requested_at) >= KEEP

    async def remove_expired(self) -> int:
        """The housekeeping pass: exports asked for more than ``KEEP`` ago go, the ZIP first and
        then the row (a crash in between leaves a row whose ZIP is gone: ``not_found`` too, and
        the next pass removes it). How many went."""
        before = self.clock.now() - KEEP
        removed = 0
        while True:
            async with self.db.read() as repos:
                ids = await repos.of(ExportRepository).expired(before, BATCH)
            for export_id in ids:
                await self.store.remove(export_id)
            async with self.db.write() as repos:
                await repos.of(ExportRepository).remove(ids)
            removed += len(ids)
            if len(ids) < BATCH:
                return removed

    async def _sweep(self) -> None:
        removed = await self.remove_expired()
        if removed:
            log.info("removed %d old exports", removed)
