"""Housekeeping: rows kept only for a while are pruned, so that no table grows without bound.

It names no capability's table: each capability registers what it prunes on the wiring, beside
the rows it writes (``Wiring.prune``: a name for the log line, how long a row is kept, a batch that
deletes older rows; see the ``prune_*`` functions of the ``assembly.py`` modules), and
housekeeping goes through the registrations in order, each round. The one table it registers
itself is the kernel's relay (``prune_relay``): the command line's events for servers without
Redis, read within a second, go after ``RELAY_KEEP``, the newest kept (``RelayRepository.prune``).

Each round deletes in batches of ``BATCH`` rows, one short transaction each, so that no lock is
held long and a large backlog never stalls the writer; a round stops after ``MAX_BATCHES`` per
table (the next round goes on). On PostgreSQL each batch first takes an advisory lock
(``prune_lock``): while one node prunes, the others skip their round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from db.uow import RELAY_KEEP, Database
from server.chat.kernel.periodic import Periodic
from server.chat.kernel.wiring import PruneBatch, Pruning, Wiring

log = logging.getLogger("parley.housekeeping")
INTERVAL = 600.0  # seconds between two rounds of one node
BATCH = 500  # rows per delete (one transaction)
MAX_BATCHES = 100  # per table and round: 50,000 rows

Pruned = dict[str, int]
"""The rows one round removed, by the pruning's name."""


def prune_relay(w: Wiring) -> None:
    """The relay table's pruning (the kernel's, registered with housekeeping by the operators)."""
    w.prune(
        "relay", RELAY_KEEP.total_seconds(), lambda repos, before, limit: repos.relay.prune(before, limit)
    )


class Housekeeping:
    """Prunes every registered ``Pruning`` each ``interval`` seconds; ``prunings`` is read at each
    round (the wiring's own list)."""

    def __init__(self, db: Database, prunings: Sequence[Pruning], interval: float = INTERVAL) -> None:
        self.db = db
        self.prunings = prunings
        self._periodic = Periodic(self._round, interval, "pruning old rows")

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def _round(self) -> None:
        pruned = await self.prune()
        if any(pruned.values()):
            log.info("pruned %s", " ".join(f"{name}={count}" for name, count in pruned.items()))

    async def prune(self, now: datetime | None = None) -> Pruned:
        """One round: every registered table in batches, until a batch comes back short (or
        another node holds the lock). The rows removed, by name."""
        now = now or datetime.now(UTC)
        pruned: Pruned = {}
        for pruning in list(self.prunings):
            count = await self._batches(pruning.batch, now - timedelta(seconds=pruning.keep))
            pruned[pruning.name] = pruned.get(pruning.name, 0) + count
        return pruned

    async def _batches(self, batch: PruneBatch, before: datetime) -> int:
        total = 0
        for _ in range(MAX_BATCHES):
            async with self.db.write() as repos:
                if not await repos.webhooks.prune_lock():
                    return total
                count = await batch(repos, before, BATCH)
            total += count
            if count < BATCH:
                break
        return total
