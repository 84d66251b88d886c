"""The fan-out port: services publish, sinks deliver.

The in-memory hub hands every event to each attached sink in order. The sinks
are the domain's caches (directory, known users, delivery cursors, sessions,
attached first by ``Chat``), then the transports' (Socket.IO, the gateways),
and in tests a recorder. A sink must not raise for one bad recipient;
an exception from a sink is logged and does not stop the other sinks,
because the event describes something already committed.
"""

from __future__ import annotations

import logging
from typing import Protocol

from server.chat.events import Event

log = logging.getLogger("parley.hub")


class Sink(Protocol):
    async def deliver(self, event: Event) -> None: ...


class Hub:
    """The in-memory hub: one process. ``server.adapters.cluster.redis_hub`` carries events across nodes."""

    def __init__(self) -> None:
        self._sinks: list[Sink] = []

    async def start(self) -> None:
        """Nothing to connect in one process (the Redis hub subscribes here)."""

    async def stop(self) -> None:
        """Nothing to release in one process."""

    def attach(self, sink: Sink) -> None:
        self._sinks.append(sink)

    async def publish(self, *events: Event) -> None:
        for event in events:
            for sink in self._sinks:
                try:
                    await sink.deliver(event)
                except Exception:
                    log.exception("sink %r failed on %s", sink, type(event).__name__)
