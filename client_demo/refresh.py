"""Keeps a connection's token fresh (PROTOCOL.md section 10, "Token refresh").

The server sends ``auth:expiring`` some time (``PARLEY_EXPIRY_NOTICE``, a minute by default)
before the socket's token expires, and disconnects the socket at the expiry unless it was given
a new token. On the notice this gets one with ``POST /api/auth/refresh``, keeps it for the
connection's reconnections (``Connection.token``; with a stored session, through its refresh
cookie, turned over and stored again), then hands it to the live socket with
``auth:refresh``. A refresh that fails is said as a notice; the server then ends the session at
the expiry, which the connection reports as lost, as for any server disconnect.
"""

from __future__ import annotations

import asyncio
from typing import Any

from client_demo import api
from client_demo.connection import Connection
from client_demo.credentials import Kept
from client_demo.errors import ClientError


class Refresher:
    """Refreshes ``conn``'s token on each ``auth:expiring``, one refresh at a time."""

    def __init__(self, conn: Connection, *, timeout: float = 10.0, kept: Kept | None = None) -> None:
        self.conn = conn
        self.timeout = timeout
        self.kept = kept
        self._task: asyncio.Task[None] | None = None
        conn.on_event("auth:expiring", self._expiring)

    async def _expiring(self, _data: Any = None) -> None:
        # A task of its own: the ack of ``auth:refresh`` comes through the event loop this
        # handler is called from.
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._refresh_quietly())

    async def refresh(self) -> str:
        """Get a new token, keep it, give it to the socket; the new expiry (ISO 8601)."""
        if self.kept is not None:  # through the stored session: its cookie turned over and kept
            token = await self.kept.token()
        else:
            token = await api.refresh(self.conn.url, self.conn.token, timeout=self.timeout)
        self.conn.token = token  # a reconnection from now on presents it
        answer = await self.conn.call("auth:refresh", {"token": token})
        expires_at = answer.get("expires_at") if isinstance(answer, dict) else None
        return str(expires_at)

    async def _refresh_quietly(self) -> None:
        try:
            expires_at = await self.refresh()
        except ClientError as exc:
            self.conn.notice(f"could not refresh the token ({exc}); the server will end the session")
            return
        self.conn.notice(f"token refreshed, valid until {expires_at}")


def keep_fresh(conn: Connection, *, timeout: float = 10.0, kept: Kept | None = None) -> Refresher:
    """Refresh ``conn``'s token by itself from now on (before ``connect``); with ``kept``, through
    the stored session's refresh cookie (PROTOCOL.md section 19), else with the token itself."""
    return Refresher(conn, timeout=timeout, kept=kept)
