"""A job run every few seconds in a background task, surviving its own failures.

Used for batched writes (delivery cursors) and housekeeping sweeps. A round the database's
outage failed is logged once per failure class for the whole process (``server.chat.kernel.outage``)
and the next rounds back off (doubling, at most 2 s, so the job resumes within seconds of the
database's return); any other failure is logged with its traceback once per exception type
until a round succeeds again: the loop never dies and never floods the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from server.chat.kernel.outage import DATABASE, Backoff

log = logging.getLogger("parley.periodic")


async def cancelled(*tasks: asyncio.Task[None] | None) -> None:
    """Cancel the tasks and wait until each has ended (a worker's stop: its loop and its jobs),
    cancelling again one that took its cancellation for something else (``cancel_until_done``);
    then raise what the first of them that failed raised, as awaiting it would."""
    await cancel_until_done(*tasks)
    for task in tasks:
        failure = None if task is None or task.cancelled() else task.exception()
        if failure is not None:
            raise failure


STOP_STEP = 1.0  # seconds a cancelled task has to end before it is cancelled again


async def cancel_until_done(*tasks: asyncio.Task[None] | None) -> None:
    """Cancel the tasks and wait until each has ended, each outcome retrieved and none raised. One
    still running ``STOP_STEP`` seconds after its cancellation took it for something else (a
    library or a callback swallowed it; Python 3.11's ``wait_for`` drops one that meets a
    completion) and goes on: it is cancelled again. Cancelled only once, such a heartbeat or
    listener outlives its node's stop, which waits for it forever (seen in CI)."""
    running = [task for task in tasks if task is not None]
    pending = {task for task in running if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=STOP_STEP)
    await asyncio.gather(*running, return_exceptions=True)


STOP_GRACE = 2.0  # seconds a round in progress has to end at a stop before it is cancelled


async def after_round(task: asyncio.Task[None], busy: bool) -> None:
    """End a loop told to stop: its round in progress (``busy``) first, within ``STOP_GRACE``."""
    if busy:
        await asyncio.wait({task}, timeout=STOP_GRACE)
    await cancelled(task)


class Periodic:
    def __init__(self, job: Callable[[], Awaitable[None]], interval: float, what: str) -> None:
        self.job = job
        self.interval = interval
        self.what = what
        self._task: asyncio.Task[None] | None = None
        self._busy = False  # a round is running
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop between rounds: one in progress ends first, within ``STOP_GRACE``. Cancelled in the
        middle of a statement, a round left its connection to be rolled back by the pool from a
        cancelled task, which logged a traceback as the server stopped (a ``parley serve`` whose
        port was taken, on a loaded machine)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        await after_round(task, self._busy)

    async def _run(self) -> None:
        backoff = Backoff(self.interval)
        reported: set[type[BaseException]] = set()
        outage = False  # the last round met the database's outage
        while not self._stopping:
            await asyncio.sleep(backoff.delay)
            try:
                self._busy = True
                await self.job()
            except Exception as exc:
                backoff.failed()
                if DATABASE.failed(exc, self.what):
                    outage = True
                elif type(exc) not in reported:
                    reported.add(type(exc))
                    log.exception("%s failed; the next round runs as usual", self.what)
            else:
                if outage:
                    DATABASE.recovered()
                outage = False
                backoff.succeeded()
                reported.clear()
            finally:
                self._busy = False


class IdlePoll:
    """How long a queue's worker sleeps between looks when nothing rang: ``first`` after a look
    that found work, then doubling while looks find nothing, at most ``most``. A worker is rung
    for what its own node writes, so the polls only find what another node (or process) left: an
    idle server need not look every second (each look is a write transaction, which on SQLite takes
    the lock the send batches take)."""

    def __init__(self, first: float, most: float) -> None:
        self.first = first
        self.most = most
        self.wait = first

    def looked(self, found: int) -> None:
        self.wait = self.first if found else min(self.most, self.wait * 2)


class DueWakeups:
    """Rings ``wake`` when each time it is given comes: a queue's worker gives it the retries it
    recorded (``next_at``), so a retry a tenth of a second away goes out then, not at the next
    poll seconds away (the polls stay for what other nodes recorded). One loop timer, for the
    earliest time to come (a heap holds the rest); give a time only once the row says so."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self.wake = wake
        self._times: list[datetime] = []
        self._timer: asyncio.TimerHandle | None = None

    def at(self, *times: datetime | None) -> None:
        for when in times:
            if when is not None:
                heapq.heappush(self._times, when)
        self._arm()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._times.clear()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._times:
            delay = max(0.0, (self._times[0] - datetime.now(UTC)).total_seconds())
            self._timer = asyncio.get_running_loop().call_later(delay, self._rang)

    def _rang(self) -> None:
        self._timer = None
        now = datetime.now(UTC)
        while self._times and self._times[0] <= now:
            heapq.heappop(self._times)
        self.wake()
        self._arm()


class QueueLoop:
    """The loop of a queue's worker (exports, erasures, mails): ``round`` takes what is due and does
    it, answering how many it took; ``full`` of them (a whole claim) runs the next round at once,
    fewer waits until rung (``ring``: this node wrote work) or the poll's wait passes (``IdlePoll``).
    ``prepare`` runs before the first round that gets that far (a worker's set-up that reads the
    database, such as voiding the leases a killed process left): it is retried like a round. A
    round the database's outage failed is logged once per failure class (``DATABASE``), any other
    failure with its traceback; the loop never dies."""

    def __init__(
        self,
        round: Callable[[], Awaitable[int]],
        poll: IdlePoll,
        what: str,
        *,
        full: int = 1,
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.round = round
        self.poll = poll
        self.what = what
        self.full = full
        self.prepare = prepare
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy = False  # a round (or the set-up) is running
        self._stopping = False

    def ring(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """As ``Periodic.stop``: a round in progress ends first (its first one runs at start, so a
        server that stops at once, its port taken, stopped it in the middle of a statement)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        await after_round(task, self._busy)

    async def _run(self) -> None:
        outage = False
        while not self._stopping:
            self._wake.clear()
            taken = 0
            try:
                self._busy = True
                if self.prepare is not None:
                    await self.prepare()
                    self.prepare = None
                taken = await self.round()
            except Exception as exc:
                if DATABASE.failed(exc, self.what):
                    outage = True
                else:
                    log.exception("%s failed; trying again", self.what)
            else:
                if outage:
                    DATABASE.recovered()
                outage = False
            finally:
                self._busy = False
            if self._stopping:
                return
            self.poll.looked(taken)
            if taken >= self.full:
                await asyncio.sleep(0)  # more may be due: look again, letting the rest run first
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll.wait):
                    await self._wake.wait()
