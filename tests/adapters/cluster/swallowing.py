"""A party the cluster's tasks call into that, once, takes a cancellation for the end of its own
wait and carries on, as a library may (Python 3.11's ``wait_for`` can drop a cancellation that
meets a completion): a hub's sink, a presence registry's ``on_gone``."""

from __future__ import annotations

import asyncio


class Swallowing:
    def __init__(self) -> None:
        self.entered = asyncio.Event()  # a task is inside, waiting
        self.swallowed = 0

    async def deliver(self, _event: object) -> None:
        """As a hub's sink."""
        await self._once()

    async def __call__(self, _user_ids: list[int]) -> None:
        """As a presence registry's ``on_gone``."""
        await self._once()

    async def _once(self) -> None:
        if self.swallowed:
            return
        self.entered.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.swallowed += 1
