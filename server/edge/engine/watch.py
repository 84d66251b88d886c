"""What a watcher of the Socket.IO server hears: sockets connecting and leaving, rooms entered and left.

The Admin UI (``admin.py``) is the one watcher. It is chosen when the server is built
(``build_server(watched=True)`` makes a ``WatchedServer``), and registered with ``watch``:
the library's methods are overridden in our classes, never replaced on an instance, and a
server built without it pays nothing per event.
"""

from __future__ import annotations

from typing import Protocol


class RoomWatcher(Protocol):
    def room_entered(self, sid: str, namespace: str, room: object) -> None: ...

    def room_left(self, sid: str, namespace: str, room: object) -> None: ...


class SocketWatcher(RoomWatcher, Protocol):
    async def socket_connected(self, sid: str, namespace: str) -> None:
        """A connect handler accepted the socket (it is not told of refused ones)."""

    async def socket_disconnected(self, sid: str, namespace: str, reason: object) -> None: ...
