"""Rooms indexed by socket, so a disconnect costs the socket's rooms, not every room.

python-socketio 5.18's ``BaseManager.basic_disconnect`` (and ``get_rooms``)
copies and scans every room of the namespace to find the leaving socket's.
Parley has two or three rooms per user, so with 10,000 sockets each
disconnect scanned ~30,000 rooms and closing 9,000 of them kept the server
busy for minutes (measured by bench.compare). This mixin keeps, per socket,
the set of rooms it entered, and leaves exactly those.

It overrides library internals (``basic_enter_room``, ``basic_leave_room``,
``basic_disconnect``, ``get_rooms``): python-socketio is pinned below 5.19 and
``tests/edge/sio/test_rooms.py`` checks the manager's room table after every step.

The sockets still in their connect handler (``pending_connect``) or in their disconnect
(``pending_disconnect``) are kept by the library in a list per namespace, and every
``is_connected`` (each emit to a socket asks it) scans it. In a reconnect storm thousands wait in
their connect handlers at once, so that scan was 3% of a 10,000-socket storm's CPU (py-spy).
``PendingTable`` keeps the same lists as insertion-ordered dicts, found by hash: the library's
code (``[namespace] = []``, ``append``, ``remove``, ``in``, ``len``, ``del``) runs on them unchanged.
"""

from __future__ import annotations

from typing import Any

from server.edge.engine.watch import RoomWatcher


class PendingSids(dict[Any, None]):
    """One namespace's waiting sids: a list to the library's code, a dict to find one. A sid
    appended twice would be kept once; the library never appends one twice (``pre_connect`` makes
    a new sid, and every ``pre_disconnect`` follows an ``is_connected`` that a waiting sid fails)."""

    def append(self, sid: Any) -> None:
        self[sid] = None

    def remove(self, sid: Any) -> None:
        try:
            del self[sid]
        except KeyError:
            raise ValueError(f"{sid!r} is not waiting") from None  # as ``list.remove`` says it


class PendingTable(dict[Any, PendingSids]):
    """``pending_connect`` or ``pending_disconnect``: the library stores a new ``[]`` per namespace
    (``BaseManager.pre_connect``, ``pre_disconnect``), kept here as ``PendingSids``."""

    def __setitem__(self, namespace: Any, sids: Any) -> None:
        kept = sids if type(sids) is PendingSids else PendingSids((sid, None) for sid in sids)
        super().__setitem__(namespace, kept)


class RoomIndex:
    """Mix in before a python-socketio manager class.

    ``watcher`` (the Admin UI, set through ``WatchedServer.watch``) hears each room entered and
    left by ``enter_room``/``leave_room``; a disconnect's leaves are not reported (the watcher
    hears the disconnect).
    """

    watcher: RoomWatcher | None = None
    rooms: dict[Any, dict[Any, Any]]
    callbacks: dict[Any, Any]
    pending_connect: dict[Any, Any]
    pending_disconnect: dict[Any, Any]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[tuple[str, str], set[Any]] = {}
        self.pending_connect = PendingTable()
        self.pending_disconnect = PendingTable()

    def basic_enter_room(self, sid: str, namespace: str, room: object, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self._rooms_of.setdefault((namespace, sid), set()).add(room)
        if self.watcher is not None and room is not None:
            self.watcher.room_entered(sid, namespace, room)

    def basic_leave_room(self, sid: str, namespace: str, room: object) -> None:
        if self.watcher is not None and room is not None:
            self.watcher.room_left(sid, namespace, room)
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **_kwargs: object) -> None:
        """The library's disconnect, with the socket's own rooms instead of a scan of all."""
        for room in self._rooms_of.pop((namespace, sid), set()):
            super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]

    def room_size(self, namespace: str, room: object) -> int:
        """How many sockets are in ``room`` now (the server API counts an event's recipients):
        the size of the library's room table, with no copy."""
        return len(self.rooms.get(namespace, {}).get(room, ()))
