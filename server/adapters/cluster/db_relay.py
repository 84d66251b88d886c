"""The hub of one process without Redis, which also hears the command line through the database.

``parley user disable`` and the other operator commands run in a process of their own: with
Redis their events reach every server on the hub channel (``redis_hub``); without it there is
no channel, so the command writes its events, encoded like the channel's messages, to the
``relay`` table in the transaction that makes the change (``Database.relay``). This hub reads
the rows added since it started, every ``RELAY_INTERVAL`` seconds, and hands their events to
its sinks as if they were its own: a disabled user's sockets close, a renamed topic's name cache
is forgotten and its members are told, within about a second.

It reads rows in id order; on SQLite (one writer at a time) ids commit in that order. The
command prunes rows older than ten minutes but never the newest, so ids never go back.
"""

from __future__ import annotations

import logging

from db.uow import Database
from server.adapters.cluster import codec
from server.chat.kernel.hub import MemoryHub
from server.chat.kernel.periodic import Periodic

log = logging.getLogger("parley.cluster")
RELAY_INTERVAL = 1.0  # seconds between reads of the relay table
NODE = "cli"  # the node name the command line's events carry


def encode(events: list[object]) -> str:
    """What the command line writes to the relay table (``Database.relay``)."""
    return codec.dumps(NODE, tuple(events)).decode()  # type: ignore[arg-type]


class RelayHub(MemoryHub):
    def __init__(self, db: Database, interval: float = RELAY_INTERVAL) -> None:
        super().__init__()
        self.db = db
        self._last = 0
        self._poll = Periodic(self.read_relay, interval, "reading the relay table")

    async def start(self) -> None:
        """Begin after the newest row: what was written before this process started is stale."""
        async with self.db.read() as repos:
            self._last = await repos.relay.last_id()
        self._poll.start()

    async def stop(self) -> None:
        await self._poll.stop()

    async def read_relay(self) -> None:
        """Hand the events of every row since the last read to the sinks, row by row."""
        async with self.db.read() as repos:
            rows = await repos.relay.after(self._last)
        for row_id, data in rows:
            self._last = row_id
            try:
                _node, events = codec.loads(data)
            except codec.UnknownEvent:
                log.warning("ignored an unreadable relay row %d", row_id)
                continue
            await super().publish(*events)
