"""The server side of the Socket.IO Admin UI (``@socket.io/admin-ui``) on the ``/admin`` namespace.

python-socketio's ``sio.instrument()`` is not used, for three reasons read in
its source (``socketio/async_admin.py``, 5.18):

- it patches engine.io's ``AsyncSocket`` class, so every server of the
  process is instrumented, and a second instrumented app in one process
  (the tests) makes each WebSocket handler call itself until RecursionError;
- in ``development`` mode (the only one that lists sockets and rooms) it
  reports every emit once per recipient (``event_sent``: an admin emit per
  delivered message, undoing ``fanout.LeanFanout``) and every received
  event with its payload (message bodies) to the admins;
- it reports a socket as connected before its connect handler ran, so a
  refused login shows as a socket that never leaves.

This module speaks the same protocol to the UI as the watcher of a
``WatchedServer`` (``server.py``: overrides chosen when the server is built, no
instance patched): ``socket_connected`` after a connect handler accepted the socket,
``socket_disconnected``, ``room_joined``/``room_left`` (batched with the
``server_stats`` tick), ``all_sockets`` and ``config`` on an admin's login.
Chat events are not reported (``event_received``/``event_sent`` are never
sent; the UI's Events page lists connections and room changes only).
The handshake shown
for a socket keeps a few harmless headers and no query string or cookie.
Rooms are shown by name (``topic:general``, ``user:alice``: ``room_names`` looks the ids up,
remembered for one stats tick), and a disconnect by room name finds the room.
Failed logins are limited per client address (``FAILURES_PER_ADDRESS`` per ``FAILURE_WINDOW``);
every login is logged with the client's address (never what was typed), and written to the audit
log (PROTOCOL.md section 16, through ``audit``) as is every disconnect an admin asks for.
Read-only by default; writable means "may disconnect sockets" only:
joining, leaving and emitting are not offered, because a socket put in
``topic:{id}`` by hand would receive a topic its user is not a member of.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from socketio.admin import EventBuffer
from socketio.exceptions import ConnectionRefusedError as Refused

from server.edge.engine.server import ParleyServer, WatchedServer

log = logging.getLogger("parley.admin")
NAMESPACE = "/admin"
SHOWN_HEADERS = ("host", "origin", "user-agent", "accept-language")
REFUSED = "invalid credentials"  # the message the UI recognises and translates
FAILURES_PER_ADDRESS = 10  # failed admin logins an address may make per FAILURE_WINDOW
FAILURE_WINDOW = 15 * 60.0  # seconds


Audit = Callable[[str | None, str, str | None, dict[str, Any]], Awaitable[None]]
"""Writes an audit row (PROTOCOL.md section 16): the admin's username (None for a refused login),
the action, its target and details. Given by the composition root (the chat's audit log)."""


async def _no_audit(
    _username: str | None, _action: str, _target: str | None, _details: dict[str, Any]
) -> None:
    return None


RoomNames = Callable[[list[str]], Awaitable[dict[str, str]]]
"""Labels for some of the given rooms (``topic:{id}`` -> ``topic:{name}``); others are shown as they are."""


class FailureLimit(Protocol):
    """Failed logins per client address (the chat's ``KeyedLimiter``, given by the composition root)."""

    def retry_after(self, key: str) -> float: ...

    def take(self, key: str) -> bool: ...


async def _no_names(_rooms: list[str]) -> dict[str, str]:
    return {}


def _now(at: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if at is None else at, UTC).isoformat()


def _digest(value: object) -> bytes:
    return hashlib.sha256(str(value).encode()).digest()


class AdminUI:
    """The Admin UI's namespace on one ``WatchedServer``, and its watcher (call ``install`` once).

    ``failures`` limits failed logins per address (``FAILURES_PER_ADDRESS`` per ``FAILURE_WINDOW``);
    ``client_address`` finds a socket's address in its environ (both the chat adapter's).
    """

    def __init__(
        self,
        sio: ParleyServer,
        username: str,
        password: str,
        *,
        failures: FailureLimit,
        client_address: Callable[[dict[str, Any]], str],
        read_only: bool = True,
        stats_interval: float = 2.0,
        socket_data: Callable[[str], dict[str, Any]] = lambda _sid: {},
        room_names: RoomNames = _no_names,
        audit: Audit = _no_audit,
    ) -> None:
        self.audit = audit  # every login (refused too, but not while limited) and every disconnect
        self.sio = sio
        self.socket_data = socket_data  # what the UI shows as a socket's "data" (its user)
        self.room_names = room_names
        self._labels: dict[str, str] = {}  # room -> label, for one stats tick
        self._rooms: dict[str, str] = {}  # label -> room, for a disconnect by room
        self._shown: dict[str, str] = {}  # room -> the label last shown (a deleted topic keeps it)
        self.username = username  # named in the audit rows of its logins and actions
        self._username = _digest(username)
        self._password = _digest(password)
        self.read_only = read_only
        self.stats_interval = stats_interval
        self.events = EventBuffer()
        self.queue: list[tuple[str, tuple[Any, ...]]] = []
        self.connected_at: dict[str, float] = {}
        self._stats: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Per address, not per account: there is one admin account, and a limit on it would let
        # anyone lock the operator out. A limited address is refused even with the right password.
        self.failures = failures
        self.client_address = client_address

    def install(self) -> None:
        sio = self.sio
        if not isinstance(sio, WatchedServer):
            raise TypeError("the Admin UI needs a server built with build_server(watched=True)")
        sio.on("connect", self.admin_connect, namespace=NAMESPACE)
        if not self.read_only:
            sio.on("_disconnect", self.admin_disconnect, namespace=NAMESPACE)
        sio.watch(self)

    # The watcher (``WatchedServer``, ``RoomIndex``) --------------------------------------------

    def room_entered(self, sid: str, namespace: str, room: object) -> None:
        if self.watched():
            self.queue.append(("room_joined", (namespace, room, sid, _now())))

    def room_left(self, sid: str, namespace: str, room: object) -> None:
        if self.watched():
            self.queue.append(("room_left", (namespace, room, sid, _now())))

    async def socket_connected(self, sid: str, namespace: str) -> None:
        await self._connected(sid, namespace)

    async def socket_disconnected(self, sid: str, namespace: str, reason: object) -> None:
        await self._disconnected(sid, namespace, reason)

    def start(self) -> None:
        self._stats = asyncio.ensure_future(self._report_stats())

    async def stop(self) -> None:
        for task in [self._stats, *self._tasks]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def accepts(self, auth: object) -> bool:
        """Both fields compared in constant time (of their digests: no length is leaked either)."""
        if not isinstance(auth, dict):
            return False
        user_ok = hmac.compare_digest(_digest(auth.get("username", "")), self._username)
        password_ok = hmac.compare_digest(_digest(auth.get("password", "")), self._password)
        return user_ok & password_ok

    async def admin_connect(self, sid: str, environ: dict[str, Any], auth: object = None) -> None:
        address = self.client_address(environ)
        wait = self.failures.retry_after(address)
        if wait > 0:
            log.warning("admin login refused", extra={"address": address, "reason": "rate_limited"})
            raise Refused(f"too many failed logins; try again in {int(wait) + 1} s")
        if not self.accepts(auth):
            self.failures.take(address)
            log.warning("admin login refused", extra={"address": address, "reason": "credentials"})
            await self._audited(None, "admin.login_refused", None, {"via": "socket.io", "address": address})
            raise Refused(REFUSED)
        log.info("admin login", extra={"address": address, "sid": sid})
        if not await self._audited(
            self.username, "admin.login", None, {"via": "socket.io", "address": address}
        ):
            raise Refused("the audit log cannot be written; try again later")
        task = asyncio.ensure_future(self._welcome(sid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def admin_disconnect(
        self, _sid: str, namespace: str, _close: object, room_filter: object = None
    ) -> None:
        asked = room_filter if isinstance(room_filter, str) else None
        if isinstance(room_filter, str):
            room_filter = self._rooms.get(room_filter, room_filter)
        sids = [sid for sid, _eio_sid in list(self.sio.manager.get_participants(namespace, room_filter))]
        details: dict[str, Any] = {"namespace": namespace, "sockets": len(sids)}
        if not await self._audited(self.username, "admin.disconnect", asked, details):
            return  # no row, no action
        for sid in sids:
            await self.sio.disconnect(sid, namespace=namespace)

    async def _audited(
        self, username: str | None, action: str, target: str | None, details: dict[str, Any]
    ) -> bool:
        """Whether the audit row was written (a failure is logged; the caller refuses the action)."""
        try:
            await self.audit(username, action, target, details)
        except Exception:
            log.exception("the audit row of an Admin UI %s could not be written", action)
            return False
        return True

    async def _welcome(self, sid: str) -> None:
        """``config`` and ``all_sockets``, once the admin's CONNECT has gone out (queued right after us)."""
        for _ in range(100):
            if self.sio.manager.is_connected(sid, NAMESPACE):
                break
            await asyncio.sleep(0)  # a yield, not a wait: the library connects right after the handler
        # ALL_EVENTS is what makes the UI show its Sockets, Rooms, Clients and Events pages; the events
        # it then lists are connections, disconnections and room changes, never a chat event.
        features = ["AGGREGATED_EVENTS", "ALL_EVENTS"]
        if not self.read_only:
            features += ["DISCONNECT", "MDISCONNECT"]
        await self.sio.emit("config", {"supportedFeatures": features}, to=sid, namespace=NAMESPACE)
        everyone = [
            (other, namespace, eio_sid)
            for namespace in self.sio.manager.get_namespaces()
            for other, eio_sid in list(self.sio.manager.get_participants(namespace, None))
        ]
        await self._learn(
            room for other, namespace, _ in everyone for room in self._rooms_of(other, namespace)
        )
        sockets = [self.describe(*one) for one in everyone]
        await self.sio.emit("all_sockets", sockets, to=sid, namespace=NAMESPACE)

    def _rooms_of(self, sid: str, namespace: str) -> list[Any]:
        return list(self.sio.manager.get_rooms(sid, namespace))

    async def _learn(self, rooms: Iterable[Any]) -> None:
        """Look up the labels of the rooms not seen this tick (a failure leaves them unlabelled)."""
        unknown = sorted({room for room in rooms if isinstance(room, str) and room not in self._labels})
        if not unknown:
            return
        try:
            found = await self.room_names(unknown)
        except Exception:
            log.warning("looking up room names failed", exc_info=True)
            found = {}
        if len(self._rooms) > 100_000:
            self._rooms.clear()
            self._shown.clear()
        for room in unknown:
            label = self._labels[room] = found.get(room) or self._shown.get(room, room)
            self._rooms[label] = room
            self._shown[room] = label

    async def relabel(self, rooms: Iterable[object]) -> None:
        """Each tick: forget the labels (a renamed topic shows its new name from the next tick
        on) and look up those of ``rooms``."""
        self._labels.clear()
        await self._learn(rooms)

    def label(self, room: object) -> object:
        """The room's label this tick; while the tick looks it up again, the one last shown (a
        socket that connects meanwhile is described by name, not by ``topic:<id>``)."""
        if not isinstance(room, str):
            return room
        return self._labels.get(room) or self._shown.get(room, room)

    def watched(self) -> bool:
        """Whether an admin is logged in (else nothing is reported but the counters)."""
        return bool(self.sio.manager.rooms.get(NAMESPACE, {}).get(None))

    async def _connected(self, sid: str, namespace: str) -> None:
        self.connected_at[sid] = time.time()
        self.events.push("connection")
        if not self.watched():
            return
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, namespace)
        await self._learn(self._rooms_of(sid, namespace))
        described = self.describe(sid, namespace, eio_sid)
        await self.sio.emit("socket_connected", (described, _now()), namespace=NAMESPACE)

    async def _disconnected(self, sid: str, namespace: str, reason: object) -> None:
        if self.connected_at.pop(sid, None) is None:
            return  # refused at connect: it was never shown
        self.events.push("disconnection")
        if not self.watched():
            return
        await self.sio.emit("socket_disconnected", (namespace, sid, str(reason), _now()), namespace=NAMESPACE)

    def describe(self, sid: str, namespace: str, eio_sid: str | None) -> dict[str, Any]:
        """A socket as the UI shows it; the handshake without credentials (no cookie, token or query)."""
        eio_socket = self.sio.eio.sockets.get(eio_sid)
        environ = self.sio.environ.get(eio_sid, {})
        at = self.connected_at.get(sid, 0.0)
        headers = {name: environ.get("HTTP_" + name.upper().replace("-", "_")) for name in SHOWN_HEADERS}
        return {
            "id": sid,
            "clientId": eio_sid,
            "transport": "websocket" if eio_socket is not None and eio_socket.upgraded else "polling",
            "nsp": namespace,
            "data": self.socket_data(sid),
            "handshake": {
                "address": environ.get("REMOTE_ADDR", ""),
                "headers": {name: value for name, value in headers.items() if value},
                "query": {},
                "secure": environ.get("wsgi.url_scheme", "") == "https",
                "url": environ.get("PATH_INFO", ""),
                "issued": at * 1000,
                "time": _now(at) if at else "",
            },
            "rooms": [self.label(room) for room in self._rooms_of(sid, namespace)],
        }

    async def _report_stats(self) -> None:
        started = time.time()
        while True:
            await asyncio.sleep(self.stats_interval)
            if not self.watched():
                self.queue.clear()
                self.events.get_and_clear()
                continue
            await self.sio.emit("server_stats", self.stats(started), namespace=NAMESPACE)
            queued, self.queue = self.queue, []
            await self.relabel(args[1] for _event, args in queued)
            for event, (namespace, room, *rest) in queued:
                await self.sio.emit(event, (namespace, self.label(room), *rest), namespace=NAMESPACE)

    def stats(self, started: float) -> dict[str, Any]:
        sockets = self.sio.eio.sockets
        rooms = self.sio.manager.rooms
        namespaces = sorted({*self.sio.handlers, *self.sio.namespace_handlers})
        return {
            "serverId": f"{socket.gethostname()}#{os.getpid()}",
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "uptime": time.time() - started,
            "clientsCount": len(sockets),
            "pollingClientsCount": sum(1 for s in sockets.values() if not s.upgraded),
            "aggregatedEvents": self.events.get_and_clear(),
            "namespaces": [
                {"name": name, "socketsCount": len(rooms.get(name, {}).get(None, {}))} for name in namespaces
            ],
        }
