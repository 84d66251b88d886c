"""What the composition hands every capability's ``build``, and what a build registers on it.

One composition root (``server.chat.service.Chat``) calls each capability package's
``assembly.build`` once, in the order of the floors. A build returns its services and registers,
here, everything else it brings: its hub sinks (with the stage that says what each must come
before), its commit handlers on the unit of work, its per-message send hooks, the rows it keeps
only for a while (``prune``: housekeeping deletes them, by name) and the parts it starts and
stops. Nothing is assigned to a service after it is built, and nothing is started anywhere
else: ``start`` runs the parts in the order they were registered, ``stop`` in reverse.

A part that only a server runs (the node's heartbeat row, every background worker: webhooks,
pushes, mails, previews, exports, erasure, retention; the search backfill, housekeeping) is
registered with ``serving=True``: the command line builds the same
chat and starts everything else, not those.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from db.repositories import Repositories
from db.uow import BeforeCommit, Database
from server.chat.kernel.budgets import Budgets
from server.chat.kernel.hub import Hub, Sink

Start = Callable[[], Awaitable[None] | None]
Stop = Callable[[], Awaitable[None] | None]
PruneBatch = Callable[[Repositories, datetime, int], Awaitable[int]]
"""One batch of a pruning: delete up to the given count of rows older than the given moment, in
the given transaction's repositories; the rows deleted."""


class Stage(enum.IntEnum):
    """When a sink hears an event, relative to the others; within a stage, in registration order.
    Each stage is named for what it must come before."""

    SEND_PATH = 10
    """The caches the send path and the rules read (directory, blocks, webhooks): a change is
    applied here before any service or client acts on it."""
    IDENTITY = 20
    """Who is logged in, which tokens live: a logout or a revoked token is seen before the
    transports close the sockets that carried it."""
    SESSIONS = 30
    """Delivery cursors, then sessions: a revocation reaches opens under way, stored messages
    bound the cursors, before the transports write."""
    REFILL = 40
    """After the caches above forgot what they knew (``NewsMissed``): memberships are read again
    and told to the transports, which come last."""
    TRANSPORTS = 50
    """The edge's sink (``server.edge.realtime.sink``): clients hear last."""


@dataclass(frozen=True)
class Pruning:
    """Rows a capability keeps only for a while: ``name`` (the housekeeping log's), how long a row
    is kept (``keep``, seconds), and the batch that deletes older ones."""

    name: str
    keep: float
    batch: PruneBatch


@dataclass
class _Part:
    name: str
    start: Start | None
    stop: Stop | None
    serving: bool


@dataclass
class Wiring:
    """The kernel a build receives: the database, the hub, the shared budgets, whether a server is
    being built; and the registers a build adds to."""

    db: Database
    hub: Hub
    budgets: Budgets | None = None
    serving: bool = True
    _sinks: list[tuple[Stage, int, Sink]] = field(default_factory=list)
    _parts: list[_Part] = field(default_factory=list)
    _prunings: list[Pruning] = field(default_factory=list)
    _started: list[_Part] = field(default_factory=list)

    def sink(self, stage: Stage, sink: Sink) -> None:
        """Hear the hub's events at ``stage`` (attached to the hub by ``attach``)."""
        self._sinks.append((stage, len(self._sinks), sink))

    def before_commit(self, handler: BeforeCommit) -> None:
        """Run ``handler`` on every transaction's recorded events and facts, just before it commits."""
        self.db.before_commit.append(handler)

    def prune(self, name: str, keep: float, batch: PruneBatch) -> None:
        """Have housekeeping delete, each round, the rows ``batch`` finds older than ``keep``
        seconds (``server.chat.operators.housekeeping``)."""
        self._prunings.append(Pruning(name, keep, batch))

    @property
    def prunings(self) -> list[Pruning]:
        """What housekeeping prunes, in registration order: the wiring's own list, so a build
        registered after housekeeping's is still pruned."""
        return self._prunings

    def part(
        self, name: str, start: Start | None = None, stop: Stop | None = None, *, serving: bool = False
    ) -> None:
        """Start ``start`` with the chat and stop ``stop`` with it (in reverse order);
        ``serving``: only when a server is built (``Wiring.serving``)."""
        self._parts.append(_Part(name, start, stop, serving))

    def attach(self) -> None:
        """Attach every registered sink to the hub, by stage (the composition calls it once, after
        every build; the edge's sink is attached after it)."""
        for _stage, _order, sink in sorted(self._sinks, key=lambda entry: entry[:2]):
            self.hub.attach(sink)

    @property
    def sinks(self) -> list[tuple[Stage, Sink]]:
        """The sinks in the order the hub hears them (for tests and the docs)."""
        return [(stage, sink) for stage, _order, sink in sorted(self._sinks, key=lambda entry: entry[:2])]

    @property
    def parts(self) -> list[str]:
        """The names of the parts ``start`` runs, in order."""
        return [part.name for part in self._parts if self.serving or not part.serving]

    async def start(self) -> None:
        for part in self._parts:
            if part.serving and not self.serving:
                continue
            if part.start is not None:
                started = part.start()
                if started is not None:
                    await started
            self._started.append(part)

    async def stop(self) -> None:
        """Stop what started, last first; a part that did not start is not stopped."""
        while self._started:
            part = self._started.pop()
            if part.stop is not None:
                stopped = part.stop()
                if stopped is not None:
                    await stopped
