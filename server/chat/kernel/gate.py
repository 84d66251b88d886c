"""A gate: at most ``limit`` holders at once, the others queued first come, first served.

Why not ``asyncio.Semaphore``: a reconnect storm needs two lanes. Connection set-ups (the token
check, the reads, presence) wait in the ``normal`` lane; the backlog read of a connection whose
set-up is done waits in the ``urgent`` lane, served first, so a connection that was let in is
finished before the next one starts (no thousands of registered sockets holding live events while
their backlogs queue behind new connects). A turn is an ``async with``: it is given back when the
block ends, however it ends; a waiter cancelled in the queue leaves it, and one cancelled just as
its turn came passes the turn on, so no count is ever lost.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType


class Gate:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a gate lets at least one holder through")
        self.limit = limit
        self.running = 0  # turns held (and turns handed to a waiter not yet resumed)
        self.queued = 0  # turns that had to wait, since the start (an operator's storm gauge)
        self._normal: deque[asyncio.Future[None]] = deque()
        self._urgent: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """Waiters in both lanes (a cancelled one counts until it is skipped)."""
        return len(self._normal) + len(self._urgent)

    def turn(self, urgent: bool = False) -> Turn:
        """Hold one of the ``limit`` turns for the ``async with`` block; ``urgent`` waiters go
        before the others."""
        return Turn(self, urgent)

    async def _enter(self, urgent: bool) -> None:
        if self.running < self.limit and not self.waiting:
            self.running += 1
            return
        self.queued += 1
        lane = self._urgent if urgent else self._normal
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane.append(ticket)
        try:
            await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled():
                self._leave()  # the turn came with the cancellation: the next waiter takes it
            else:
                try:
                    lane.remove(ticket)
                except ValueError:
                    pass  # already skipped by ``_leave``
            raise

    def _leave(self) -> None:
        """Hand the turn to the first live waiter (urgent lane first), or give it back."""
        for lane in (self._urgent, self._normal):
            while lane:
                ticket = lane.popleft()
                if not ticket.done():
                    ticket.set_result(None)
                    return
        self.running -= 1


class Turn:
    """One ``async with`` turn of a gate (a class, not a generator: a third of the cost, paid
    twice by every connect)."""

    __slots__ = ("gate", "urgent")

    def __init__(self, gate: Gate, urgent: bool) -> None:
        self.gate = gate
        self.urgent = urgent

    async def __aenter__(self) -> None:
        await self.gate._enter(self.urgent)

    async def __aexit__(
        self, _kind: type[BaseException] | None, _error: BaseException | None, _trace: TracebackType | None
    ) -> None:
        self.gate._leave()
