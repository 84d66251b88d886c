"""Turns for the serving engine's pool: a unit of work opened inside another always finds a connection.

A task that holds a pooled connection (a ``Database.read()``, ``write()`` or ``exclusive()`` block)
sometimes opens another before it lets the first go: a lookup whose cache missed (a topic's
members, a user, a block list) reads on a connection of its own. When every connection of the pool
was held by such outer blocks, each waited for a second connection that none would give back,
until the pool's wait ran out (30 s): sixteen subscribes at once after a restart did that on
PostgreSQL (tests/edge/sio/test_reconnect_storm.py, in CI).

So the outer blocks take turns: at most ``capacity - NESTED_RESERVE`` of them hold connections at
once, and a block opened inside one the same task holds skips the turn and takes a connection of
the reserve. Blocks inside blocks end before the block around them, so the reserve comes back
and no wait is circular. Each outer block pays one uncontended semaphore and one context
variable; a child task (``asyncio.gather`` inside a block) is outer again: it is not the holder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar

NESTED_RESERVE = 3  # connections outer blocks leave to the blocks opened inside them


class PoolTurns:
    """Who may hold one of ``capacity`` pooled connections now (``outer``: how many outer blocks)."""

    def __init__(self, capacity: int, wait: float) -> None:
        self.outer = capacity - NESTED_RESERVE
        self.wait = wait  # as long as the pool lets a checkout wait, and failing as it does
        self._turns = asyncio.Semaphore(self.outer)
        self._holder: ContextVar[asyncio.Task[object] | None] = ContextVar("pool_turn_holder", default=None)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a turn unless this task already holds one; hold it for the block."""
        task = asyncio.current_task()
        if task is not None and self._holder.get() is task:
            yield  # inside a block of this task: from the reserve, never behind the outer blocks
            return
        async with asyncio.timeout(self.wait):  # TimeoutError, as the pool's own wait raises
            await self._turns.acquire()
        try:
            token = self._holder.set(task)
            try:
                yield
            finally:
                self._holder.reset(token)
        finally:
            self._turns.release()
