"""The fan-out port: services publish, sinks deliver.

The in-memory hub hands every event to each attached sink in order. The sinks
are the domain's caches (directory, known users, delivery cursors, sessions,
attached first by ``Chat``), then the one edge sink (``server.edge.realtime.sink.HubSink``,
with a writer per transport: Socket.IO, the gateways), and in tests a recorder.
A sink must not raise for one bad recipient; an exception from a sink is logged
and does not stop the other sinks, because the event describes something already committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.chat.kernel.events import Event, MessageCreated

log = logging.getLogger("parley.hub")


class Sink(Protocol):
    async def deliver(self, event: Event) -> None: ...


@dataclass(frozen=True)
class TopicNews:
    """A topic's messages since a moment (``MissedNews.in_topic_since``) and its newest ``seq`` when
    read, None for a topic deleted meanwhile: every message up to that seq is stored, so a node that
    begins to read the topic knows which ``seq`` comes next without waiting to see."""

    events: list[MessageCreated]
    last_seq: int | None


class MissedNews(Protocol):
    """The messages a node may have missed on the hub, read back from the database
    (``server.chat.connections.refill.Refill``): the database is the source, the hub only the news."""

    async def since(self, moment: datetime) -> list[MessageCreated]:
        """Every message stored since ``moment``, per topic in ``seq`` order."""
        ...

    async def between(self, topic_id: int, first: int, last: int) -> list[MessageCreated]:
        """The topic's messages from ``seq`` ``first`` to ``last``, in order."""
        ...

    async def in_topic_since(self, topic_id: int, moment: datetime) -> TopicNews:
        """The topic's messages stored since ``moment``, in ``seq`` order, and its newest ``seq``."""
        ...


class Hub(Protocol):
    """The fan-out port: ``MemoryHub`` in one process, ``server.adapters.cluster.redis_hub.RedisHub``
    across nodes, ``server.adapters.cluster.db_relay.RelayHub`` with the command line's events."""

    missed: MissedNews | None  # a hub that can lose news reads it back from here

    async def start(self) -> None:
        """Connect before serving (subscribe, begin reading)."""
        ...

    async def stop(self) -> None:
        """Release what ``start`` took."""
        ...

    def attach(self, sink: Sink) -> None:
        """Hand every event, from here on, to ``sink`` after the sinks attached before it."""
        ...

    async def tell_here(self, *events: Event) -> None:
        """Hand ``events`` to this node's sinks only (a hub across nodes carries nothing of them)."""
        ...

    async def publish(self, *events: Event) -> None:
        """Hand ``events`` to the sinks of every node, this one's first."""
        ...

    def want(self, topics: Iterable[int] = (), users: Iterable[int] = (), read_back: bool = False) -> None:
        """A local socket follows ``topics`` and belongs to one of ``users`` (counted, once per
        socket): a hub across nodes subscribes to their news (``ready`` says when). ``read_back``:
        the socket is moved into a topic while live (a membership), not catching up from a
        backlog, so what the topic got before the subscription was in place is read back."""
        ...

    def drop(self, topics: Iterable[int] = (), users: Iterable[int] = ()) -> None:
        """The counterpart of ``want``: the last local socket gone, their news may be let go."""
        ...

    async def ready(self) -> None:
        """Return once everything wanted so far is heard (bounded): a transport awaits it before
        reading a socket's backlog, so that what is stored after the read arrives live."""
        ...


class MemoryHub:
    """The in-memory hub: one process. ``server.adapters.cluster.redis_hub`` carries events across nodes."""

    def __init__(self) -> None:
        self._sinks: list[Sink] = []
        self.missed: MissedNews | None = None  # a hub that can lose news reads it back from here

    async def start(self) -> None:
        """Nothing to connect in one process (the Redis hub subscribes here)."""

    async def stop(self) -> None:
        """Nothing to release in one process."""

    def attach(self, sink: Sink) -> None:
        self._sinks.append(sink)

    async def tell_here(self, *events: Event) -> None:
        """Hand ``events`` to this node's sinks only (a hub across nodes carries nothing of them)."""
        for event in events:
            for sink in self._sinks:
                try:
                    await sink.deliver(event)
                except Exception:
                    log.exception("sink %r failed on %s", sink, type(event).__name__)

    def want(self, topics: Iterable[int] = (), users: Iterable[int] = (), read_back: bool = False) -> None:
        """One process hears everything: nothing to subscribe."""

    def drop(self, topics: Iterable[int] = (), users: Iterable[int] = ()) -> None:
        """One process hears everything: nothing to let go."""

    async def ready(self) -> None:
        """One process hears everything at once."""

    publish = tell_here  # one process: its sinks are everyone's (a hub across nodes overrides this)
