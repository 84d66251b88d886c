"""A job run every few seconds in a background task, surviving its own failures.

Used for batched writes (delivery cursors) and housekeeping sweeps; a failed
round is logged and the next one runs as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("parley.periodic")


class Periodic:
    def __init__(self, job: Callable[[], Awaitable[None]], interval: float, what: str) -> None:
        self.job = job
        self.interval = interval
        self.what = what
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.job()
            except Exception:
                log.exception("%s failed; the next round runs as usual", self.what)
