"""Away from activity (PROTOCOL.md section 14): a user none of whose sockets sent an event for
``away_after`` seconds is ``away`` until the next event, on whichever node it comes.

No timer per socket: ``touch`` (on every event of a socket, the hot path) is two dict writes and a
set add. A sweep every ``interval`` seconds (at most a quarter of ``away_after``) writes who was
active since the last sweep (one statement), then asks the database to make idle those of this
node's users it has not seen for ``away_after``, unless another node has (``last_active_at`` is
fresher than the cutoff): so a user active on one node and quiet on another stays online, and is
looked at again each sweep until the database agrees. The node whose statement flipped a user
tells the partners (``presence`` with ``availability``); the first event after ``away_after`` of
quiet on any node asks the database to flip them back (``wake``), whichever node made them idle.
Only the user's chosen ``auto`` shows it: a user who chose ``away`` or ``dnd`` keeps that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from db.uow import Database
from server.chat.kernel.outage import DATABASE
from server.chat.kernel.periodic import cancelled

log = logging.getLogger("parley.presence")

MAX_INTERVAL = 15.0  # seconds between sweeps at most

Announce = Callable[[int, str, str], Awaitable[None]]  # user id, username, availability


class Activity:
    def __init__(self, db: Database, away_after: float, announce: Announce) -> None:
        self.db = db
        self.away_after = away_after
        self.interval = min(MAX_INTERVAL, away_after / 4)
        self.announce = announce
        self._last: dict[int, float] = {}  # user -> loop time of their last event here
        self._names: dict[int, str] = {}
        self._pending: set[int] = set()  # active since the last sweep
        self._idle: set[int] = set()  # seen idle here: their next event asks to wake them
        self._task: asyncio.Task[None] | None = None
        self._waking: set[asyncio.Task[None]] = set()

    def opened(self, user_id: int, username: str) -> None:
        """A socket of the user opened here: as good as an event."""
        self._names[user_id] = username
        self.touch(user_id)

    def closed(self, user_id: int) -> None:
        """The user's last socket here closed: nothing to sweep for them here."""
        self._last.pop(user_id, None)
        self._names.pop(user_id, None)
        self._pending.discard(user_id)
        self._idle.discard(user_id)

    def touch(self, user_id: int) -> None:
        """An event from a socket of the user (the hot path). After ``away_after`` of quiet here
        the user may be idle (made so here or by another node): ask the database to wake them."""
        now = asyncio.get_running_loop().time()
        last = self._last.get(user_id)
        self._last[user_id] = now
        self._pending.add(user_id)
        if last is not None and now - last >= self.away_after:
            self._idle.discard(user_id)
            task = asyncio.create_task(self._wake(user_id))
            self._waking.add(task)
            task.add_done_callback(self._waking.discard)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await cancelled(self._task, *self._waking)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Exception as exc:
                if not DATABASE.failed(exc, "marking idle users away"):
                    log.exception("the activity sweep failed; trying again")

    async def sweep(self) -> None:
        loop_now = asyncio.get_running_loop().time()
        now = datetime.now(UTC)
        active, self._pending = self._pending, set()
        quiet = [
            user_id
            for user_id, last in self._last.items()
            if loop_now - last >= self.away_after and user_id not in self._idle
        ]
        if not active and not quiet:
            return
        async with self.db.write() as repos:
            await repos.people.active(active, now)
            idle, flipped = await repos.people.go_idle(quiet, now - timedelta(seconds=self.away_after))
        self._idle.update(idle)  # not looked at again until they send an event
        for user_id in flipped:
            if user_id in self._names:
                await self.announce(user_id, self._names[user_id], "away")

    async def _wake(self, user_id: int) -> None:
        try:
            async with self.db.write() as repos:
                woke = await repos.people.wake(user_id, datetime.now(UTC))
        except Exception as exc:
            if not DATABASE.failed(exc, "marking a user active again"):
                log.exception("waking a user failed")
            return
        if woke and user_id in self._names:
            await self.announce(user_id, self._names[user_id], "online")
