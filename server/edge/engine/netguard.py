"""What uvicorn does not bound about a connection: how long a request may take to arrive, and how
many connections one address may hold; and the process's descriptor limit.

uvicorn closes a connection idle *between* requests (``timeout_keep_alive``) and pings an open
WebSocket (``ws_ping_interval``/``ws_ping_timeout``), but a connection that never sends a request,
trickles its headers or body, or never finishes its WebSocket handshake stays open forever: a
thousand silent sockets use up every descriptor and lock every client out. ``GuardedHTTP`` wraps
uvicorn's own HTTP protocol (given to uvicorn as its ``http`` protocol class):

- a connection has ``request_timeout`` seconds from its first byte (or from opening) to deliver a
  whole request (head and body), or, for an upgrade, to finish the WebSocket handshake; past it
  the connection is closed. A request being answered (a long-poll held by the app) is not timed.
- at most ``max_per_address`` connections per peer address; one more is closed as soon as it is
  accepted, before anything is read. Peers listed in ``PARLEY_TRUSTED_PROXIES`` are not limited:
  every client behind a proxy shares its address (the proxy bounds its own clients). Each refusal
  is told to the app: uvicorn makes this protocol before the app exists (``parley serve`` builds the
  app in uvicorn's factory), so the app's lifespan puts its hook in the lifespan state, which
  uvicorn hands every protocol it makes (``app_state``), under ``ON_REFUSED``.

The wrapper sits between the transport and uvicorn's protocol and follows the protocol switch of a
WebSocket upgrade (``set_protocol``), so the connection is counted until the socket really closes,
whichever protocol then serves it. It reads uvicorn's request cycle (``cycle.more_body``,
``cycle.response_complete``) and the WebSocket protocol's ``handshake_complete``: the same names in
uvicorn's httptools and h11 implementations.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from server.config import Settings
from server.edge.engine.wsprotocol import websocket_options

log = logging.getLogger("parley.serve")
ON_REFUSED = "parley.connection_refused"
"""The lifespan state's key of the app's hook, called with the address of each connection refused."""


@dataclass
class ConnectionLimits:
    """One process's limits, and its count of open connections per peer address."""

    request_timeout: float
    max_per_address: int
    exempt: list[str] = field(default_factory=list)  # trusted proxies: addresses, CIDRs or "*"
    counts: dict[str, int] = field(default_factory=dict)

    def admit(self, address: str) -> bool:
        """Count a new connection from ``address``; False (not counted) when it already has its share."""
        if self._exempt(address):
            return True
        count = self.counts.get(address, 0)
        if count >= self.max_per_address:
            return False
        self.counts[address] = count + 1
        return True

    def release(self, address: str) -> None:
        count = self.counts.get(address, 0) - 1
        if count > 0:
            self.counts[address] = count
        else:
            self.counts.pop(address, None)

    def _exempt(self, address: str) -> bool:
        if not self.exempt:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(entry == "*" or ip in ipaddress.ip_network(entry, strict=False) for entry in self.exempt)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the guarded protocol and its keep-alive timeout (``parley serve``, tests)."""
    limits = ConnectionLimits(
        settings.request_timeout, settings.max_connections_per_address, list(settings.trusted_proxies)
    )
    return {
        "http": partial(GuardedHTTP, limits),
        "timeout_keep_alive": settings.keep_alive_timeout,
        **websocket_options(),  # the WebSocket protocol behind the upgrade (``wsprotocol.py``)
    }


class _Relay:
    """The transport as the inner protocol sees it: everything goes to the real one, except that a
    protocol switch (WebSocket upgrade) replaces the guard's inner protocol, not the guard."""

    # Bound once as instance attributes: every frame written goes through one of these, and a
    # ``__getattr__`` fallback per write costs a failed lookup each time (the fan-out's hot path).
    DIRECT = ("write", "writelines", "is_closing", "get_write_buffer_size", "get_extra_info", "close")
    __slots__ = ("_guard", "_transport", *DIRECT)  # one per connection: no instance dict (memory)

    def __init__(self, transport: Any, guard: GuardedHTTP) -> None:
        self._transport = transport
        self._guard = guard
        for name in self.DIRECT:
            setattr(self, name, getattr(transport, name))

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._guard.inner = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        inner: asyncio.BaseProtocol = self._guard.inner
        return inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


UPGRADED = object()
"""``GuardedHTTP._done`` of a connection upgraded to a WebSocket whose handshake completed: every
frame it receives then skips the request timer's checks (their lookups: 0.17 -> 0.04 us a frame)."""


class GuardedHTTP(asyncio.Protocol):
    __slots__ = ("_done", "_timer", "address", "app_state", "inner", "limits", "transport")  # per connection

    def __init__(
        self,
        limits: ConnectionLimits,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.limits = limits
        self.app_state = app_state
        self.inner: Any = AutoHTTPProtocol(  # type: ignore[call-arg]
            config=config, server_state=server_state, app_state=app_state, _loop=_loop
        )
        self.transport: Any = None
        self.address: str | None = None  # counted against, until the connection is lost
        self._timer: asyncio.TimerHandle | None = None
        self._done: Any = None  # the last request cycle seen whole

    def connection_made(self, transport: Any) -> None:  # asyncio's, or uvloop's (no common base)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not self.limits.admit(address):
            transport.abort()  # refused before a byte is read; connection_lost follows
            refused = self.app_state.get(ON_REFUSED)
            if refused is not None:
                refused(address)
            return
        self.address = address
        self.transport = transport
        self.inner.connection_made(_Relay(transport, self))
        self._arm()

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)
        if self._done is UPGRADED:  # a WebSocket past its handshake: no request to time any more
            return
        if self._complete():
            self._disarm()
        elif self._timer is None:
            self._arm()  # the first bytes of the next request

    def eof_received(self) -> bool | None:
        if self.transport is None:
            return None
        result: bool | None = self.inner.eof_received()
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.address is not None:
            self.limits.release(self.address)
            self.address = None
            self.inner.connection_lost(exc)
            # The inner protocol's transport is the relay, which points back here: let go of the
            # protocol and the transport, so that reference counting frees the connection now
            # instead of the cyclic collector later (its buffers and sessions with it).
            self.inner = self.transport = None

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.inner.resume_writing()

    def _complete(self) -> bool:
        """Whether the request under way arrived whole (or the WebSocket handshake finished)."""
        if not hasattr(self.inner, "cycle"):  # upgraded: uvicorn's WebSocket protocol
            return bool(getattr(self.inner, "handshake_complete", True))
        cycle = self.inner.cycle
        if cycle is None or cycle is self._done:
            return False
        return not cycle.more_body or cycle.response_complete

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.limits.request_timeout, self._expired)

    def _disarm(self) -> None:
        # uvicorn's WebSocket protocol has no ``cycle``: it is disarmed once its handshake is done
        self._done = getattr(self.inner, "cycle", UPGRADED)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self._complete():
            self._disarm()
        elif self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def raise_descriptor_limit() -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (logged); the (soft, hard) now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # e.g. an unlimited hard limit the kernel caps lower
            log.warning("could not raise the open-file limit from %s to %s", soft, hard)
            return soft, hard
        log.info("open-file limit raised from %s to %s", soft, hard)
        return hard, hard
    log.info("open-file limit: %s", soft)
    return soft, hard
