"""Reads asked for at the same moment, answered by one statement: ``Batched``.

A reconnect storm brings thousands of connections whose backlogs are read within a second of
each other; one statement per user is a database round trip (a hand-off to aiosqlite's thread,
a PostgreSQL message) each. ``Batched.get(key)`` joins the batch being gathered: a batch starts
on the loop's next turn after its first key, and while one batch's statement runs the next keys
gather for the one after it (as a group commit does). A lone key waits no longer than a loop
turn; keys asked for together share one read. Each caller gets exactly its own key's answer, as
if it had read alone; a read that fails fails every caller of that batch (each would have had the
same error alone, or a different one from the same database).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Batched(Generic[K, V]):
    """``get(key)``, answered by ``read(keys)`` over every key asked for meanwhile (at most
    ``limit`` keys a statement); a key the read's answer lacks gets ``missing()``."""

    def __init__(
        self, read: Callable[[list[K]], Awaitable[dict[K, V]]], missing: Callable[[], V], limit: int = 500
    ) -> None:
        if limit < 1:
            raise ValueError("a batch holds at least one key")
        self.read = read
        self.missing = missing
        self.limit = limit
        self.reads = 0  # statements run (tests and benches compare them with the keys asked for)
        self._waiting: dict[K, list[asyncio.Future[V]]] = {}
        self._runner: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V:
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._runner is None:
            self._runner = asyncio.ensure_future(self._run())
        return await future

    async def _run(self) -> None:
        """Read batch after batch until no key waits; each batch is what gathered meanwhile."""
        try:
            while self._waiting:
                keys = list(self._waiting)[: self.limit]
                batch = {key: self._waiting.pop(key) for key in keys}
                self.reads += 1
                try:
                    found = await self.read(keys)
                except asyncio.CancelledError:
                    for futures in batch.values():
                        for future in futures:
                            future.cancel()
                    raise
                except Exception as exc:
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():  # its caller may have been cancelled meanwhile
                            future.set_result(found[key] if key in found else self.missing())
        finally:
            self._runner = None
            for futures in self._waiting.values():  # cancelled itself (the loop's end) with keys left
                for future in futures:
                    if not future.done():
                        future.cancel()
            self._waiting.clear()
