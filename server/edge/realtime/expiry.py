"""Token expiry of every realtime connection (PROTOCOL.md section 10, "Token refresh").

A registered connection whose token expires (``Connection.expires_at``) is told ``notice``
seconds before (its writer's ``expiring``: Socket.IO's ``auth:expiring``; at once when less is
left) and closed at the expiry (``EXPIRED``: Socket.IO disconnects the socket, a gateway
WebSocket closes with 4401 ``token_expired``) unless ``auth:refresh`` gave it a new token first
(``extend``). Its next CONNECT with the old token is refused ``token_expired`` by the token check
itself.

One deadline per watched connection on the loop's ``Ticks`` (``server.edge.engine.ticks``: one
loop timer per tick for every connection and socket due then, not a ``TimerHandle`` each), on the
loop's monotonic clock: the notice's, then the expiry's. ``forget`` (the registry removes the
connection) and ``extend`` cancel it; nothing sleeps per connection. What a timer asks of a writer runs as a
short task of its own, so a timer callback never blocks the loop or raises into it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from server.edge.engine.ticks import ticks
from server.edge.realtime.connection import EXPIRED, Connection

log = logging.getLogger("parley.realtime")


class Expiry:
    """The clocks of the connections of one process (``Registry`` starts and stops them)."""

    def __init__(self, notice: float) -> None:
        self.notice = notice  # seconds before the expiry that the connection is told
        self._timers: dict[Connection, int] = {}  # the tick of each watched connection's next step
        self._tasks: set[asyncio.Task[None]] = set()
        self._warn_at = self._warn  # bound once: the ticks keep it per connection
        self._expire_at = self._expire

    def __len__(self) -> int:
        """The connections watched."""
        return len(self._timers)

    def watch(self, connection: Connection) -> None:
        """Start the connection's clock (none for a connection whose token does not expire)."""
        self._cancel(connection)
        if connection.expires_at is None or connection.closing:
            return
        self._timers[connection] = _at(max(0.0, _left(connection) - self.notice), connection, self._warn_at)

    def forget(self, connection: Connection) -> None:
        """Stop the connection's clock (it is gone)."""
        self._cancel(connection)

    def extend(self, connection: Connection, expires_at: datetime) -> bool:
        """The connection now holds a token expiring at ``expires_at``: its clock starts anew.
        False (and nothing changed) when it is not watched: gone, or closed as expired already."""
        if connection not in self._timers:
            return False
        connection.expires_at = expires_at
        self.watch(connection)
        return True

    def _warn(self, connection: Connection) -> None:
        self._timers[connection] = _at(max(0.0, _left(connection)), connection, self._expire_at)
        self._spawn(connection.writer.expiring(connection))

    def _expire(self, connection: Connection) -> None:
        self._timers.pop(connection, None)
        decision = connection.close(EXPIRED)
        if decision is not None:
            self._spawn(connection.writer.close(connection, decision))

    def _cancel(self, connection: Connection) -> None:
        slot = self._timers.pop(connection, None)
        if slot is not None:
            ticks().cancel(slot, connection)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("token expiry: writing to a connection failed", exc_info=task.exception())


def _left(connection: Connection) -> float:
    """Seconds until the connection's token expires (negative: past)."""
    assert connection.expires_at is not None
    return connection.expires_at.timestamp() - time.time()


def _at(delay: float, connection: Connection, callback: Any) -> int:
    return ticks().at(asyncio.get_running_loop().time() + delay, connection, callback)
