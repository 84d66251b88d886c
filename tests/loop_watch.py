"""A watchdog for the test's own event loop, where the servers under test share it (two_nodes).

A bound on how long a send may take fails the same way whether a node held the send or something
held the whole loop (a synchronous call in a node, a test helper that sleeps): only the second
leaves the loop without a tick. ``watching_the_loop`` ticks the loop every ``TICK`` seconds and,
from a thread of its own, records the loop thread's stack whenever the last tick is older than
``STALL``: a failed bound then says which code held the loop, instead of a number alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

TICK = 0.05
STALL = 1.0  # a loop without a tick this long is held (a loaded machine delays a tick, not by 1 s)


@dataclass
class Stall:
    began: float  # monotonic: the last tick before it
    lasted: float
    stack: str  # the loop thread's stack as first seen held


@dataclass
class LoopWatch:
    stalls: list[Stall] = field(default_factory=list)
    _last: float = field(default_factory=time.monotonic)

    @property
    def longest(self) -> float:
        return max((s.lasted for s in self.stalls), default=0.0)

    def report(self) -> str:
        """What held the loop, for an assertion's message ('' when nothing did)."""
        held = (f"the loop was held {s.lasted:.1f} s, at first here:\n{s.stack}" for s in self.stalls)
        return "\n".join(held)


@contextlib.asynccontextmanager
async def watching_the_loop() -> AsyncIterator[LoopWatch]:
    watch = LoopWatch()
    loop_thread = threading.get_ident()
    done = threading.Event()

    async def tick() -> None:
        while True:
            watch._last = time.monotonic()
            await asyncio.sleep(TICK)

    def guard() -> None:
        current: Stall | None = None
        while not done.wait(TICK):
            last = watch._last
            held = time.monotonic() - last
            if held < STALL:
                current = None
                continue
            if current is None or current.began != last:
                frame = sys._current_frames().get(loop_thread)
                stack = "".join(traceback.format_stack(frame)) if frame is not None else "(no frame)"
                current = Stall(last, held, stack)
                watch.stalls.append(current)
            current.lasted = held

    ticker = asyncio.create_task(tick())
    thread = threading.Thread(target=guard, name="loop-watch", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        done.set()
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        thread.join()
