"""One welcome (backlog or replay) in flight per user, per process.

A client that reconnects in a storm (50 reconnects in a row, each socket
dropped before it read) had each new socket load and push the user's whole
backlog or recovery replay: 254k messages queued for sockets already gone.
Welcomes of one user now run one after the other, oldest first: an older one
ends at its next look once its socket is gone, and a newer one whose socket
went while it waited loads nothing. An older one whose transport takes
nothing (a client that dropped it without a goodbye, a half-open TCP
connection) gives way after ``outgoing.STALLED_AFTER`` seconds when a newer
one waits, closing its socket as a client that does not read, rather than
hold the newer one up for a whole heartbeat. A user's two live tabs still each
get their backlog, one after the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class OnePerUser:
    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # holder and waiters per user: the lock goes with the last

    @asynccontextmanager
    async def turn(self, user_id: int) -> AsyncIterator[None]:
        """Wait for the user's earlier welcomes (FIFO), then hold the user's turn."""
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        self._users[user_id] = self._users.get(user_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[user_id] -= 1
            if not self._users[user_id]:
                del self._users[user_id], self._locks[user_id]

    def waited_for(self, user_id: int) -> bool:
        """Whether a welcome of the user waits for the turn."""
        return self._users.get(user_id, 0) > 1

    def __len__(self) -> int:
        return len(self._locks)
