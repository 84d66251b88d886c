"""Connections cannot hold the server's descriptors (issue 18, item 9): over real uvicorn on port 0,
with raw sockets and small timeouts set through settings."""

from __future__ import annotations

import asyncio
import gc
import resource
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from server.edge.engine.direct import DirectWebSocket
from server.edge.engine.netguard import GuardedHTTP, _Relay, raise_descriptor_limit
from server.edge.engine.wsprotocol import LeanWebSocketProtocol
from tests.edge.engine.test_eio_socket import raw_websocket
from tests.support import WAIT, LiveServer, running
from tests.support import test_settings as settings_with

TIMEOUT = 0.5


@asynccontextmanager
async def server(tmp_path: Path, **overrides: Any) -> AsyncIterator[LiveServer]:
    values: dict[str, Any] = {"request_timeout": TIMEOUT, **overrides}
    async with running(settings_with(tmp_path / "data", **values)) as live:
        yield live


async def connect(live: LiveServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(live.url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def closed_by_server(reader: asyncio.StreamReader, within: float = WAIT) -> bytes:
    """Everything the server sent until it closed the connection (fails if it is still open)."""
    chunks = []
    try:
        async with asyncio.timeout(within):
            while chunk := await reader.read(65536):
                chunks.append(chunk)
    except ConnectionError:
        pass
    return b"".join(chunks)


async def health(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)


async def test_a_silent_connection_is_closed_after_the_request_timeout(tmp_path: Path) -> None:
    async with server(tmp_path) as live:
        # The clock starts before connecting: the server's starts when it accepts, later. Started
        # once connected, a pause of the loop (this process serves too) between the accept and
        # this task's turn counted against the server (a collection of the cyclic collector, 0.12 s).
        started = time.monotonic()
        reader, writer = await connect(live)
        assert await closed_by_server(reader) == b""
        took = time.monotonic() - started
        writer.close()
    assert took >= TIMEOUT


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", id="headers"),
        pytest.param(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"username"',
            id="body",
        ),
        pytest.param(
            b"GET /compat/echo/ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
            id="upgrade",
        ),
    ],
)
async def test_a_request_that_never_completes_is_closed(tmp_path: Path, partial: bytes) -> None:
    async with server(tmp_path) as live:
        reader, writer = await connect(live)
        writer.write(partial)
        await writer.drain()
        answer = await closed_by_server(reader)
        writer.close()
    assert b" 200 " not in answer and b" 101 " not in answer


async def test_an_idle_keep_alive_connection_is_closed(tmp_path: Path) -> None:
    async with server(tmp_path, keep_alive_timeout=1) as live:
        reader, writer = await connect(live)
        assert b" 200 " in await health(reader, writer)
        await closed_by_server(reader)
        writer.close()


async def test_a_request_answered_slowly_is_not_cut(tmp_path: Path) -> None:
    """A long-poll held by the app longer than the request timeout still gets its answer."""
    async with server(tmp_path, ping_interval=2.0) as live:
        query = {"EIO": "4", "transport": "polling"}
        opened = await live.http.get("/socket.io/", params=query)
        sid = opened.text.split('"sid":"')[1].split('"')[0]
        started = asyncio.get_running_loop().time()
        held = await live.http.get("/socket.io/", params={**query, "sid": sid})  # until the ping (2 s)
        took = asyncio.get_running_loop().time() - started
    assert held.status_code == 200 and held.text.startswith("2"), held.text
    assert took > TIMEOUT


async def test_connections_per_address_are_bounded(tmp_path: Path) -> None:
    async with server(tmp_path, request_timeout=30.0, max_connections_per_address=3) as live:
        held = [await connect(live) for _ in range(3)]
        extra_reader, extra_writer = await connect(live)
        refused = await closed_by_server(extra_reader)  # closed at once, nothing read or answered
        extra_writer.close()
        assert refused == b""
        for reader, writer in held:
            assert b" 200 " in await health(reader, writer)
        reader, writer = held.pop()
        writer.close()
        await closed_by_server(reader)
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:  # the freed slot is counted back once the server saw the close
            again_reader, again_writer = await connect(live)
            try:
                answer = await health(again_reader, again_writer)
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                assert asyncio.get_running_loop().time() < deadline
            finally:
                again_writer.close()
        for _reader, writer in held:
            writer.close()
    assert b" 200 " in answer


def test_the_descriptor_soft_limit_is_raised_to_the_hard_limit(caplog: pytest.LogCaptureFixture) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = min(soft, 512) if hard == resource.RLIM_INFINITY else min(soft, hard - 1, 512)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    try:
        with caplog.at_level("INFO", logger="parley.serve"):
            now = raise_descriptor_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] in (hard, now[0])
        if hard != resource.RLIM_INFINITY:
            assert now == (hard, hard)
            assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
        assert any("open-file limit" in record.getMessage() for record in caplog.records)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def connection_objects() -> int:
    """The WebSocket protocols and direct writers that exist, garbage or not: what a connection
    holds for its life (its buffers, its transport through the guard's relay). uvicorn's HTTP
    protocol, which the upgrade replaced, is in a cycle of its own (with its parser), but young:
    the next young collection frees it, and it holds nothing of the connection's life."""
    return sum(isinstance(o, (LeanWebSocketProtocol, DirectWebSocket)) for o in gc.get_objects())


async def test_a_closed_websocket_is_freed_as_it_closes_not_left_to_the_cyclic_collector(
    tmp_path: Path,
) -> None:
    """A WebSocket that ends leaves no reference cycle: its guard, protocol, transport and the
    fan-out's writer go when it closes. In a cycle they would wait for the cyclic collector, and a
    long-lived connection is in its oldest generation, collected rarely: the memory of every
    closed connection would stay with the server until then."""
    gc.collect()
    gc.disable()  # only reference counting frees anything from here on
    try:
        async with server(tmp_path) as live:
            before = connection_objects()
            reader, writer = await raw_websocket(live)  # type: ignore[arg-type]
            assert await asyncio.wait_for(reader.read(1), WAIT) == b"\x81"  # the OPEN packet's frame
            assert connection_objects() == before + 2
            writer.transport.abort()
            deadline = time.monotonic() + WAIT
            while connection_objects() > before:
                assert time.monotonic() < deadline, f"{connection_objects() - before} objects of it are left"
                await asyncio.sleep(0.01)
    finally:
        gc.enable()


async def test_a_websockets_guard_relay_and_protocol_carry_no_instance_dict(tmp_path: Path) -> None:
    """Memory per socket: the three objects a connection keeps for its life in front of Engine.IO
    hold their attributes in slots (an instance dict is 300 bytes or more each)."""
    async with server(tmp_path) as live:
        reader, writer = await raw_websocket(live)  # type: ignore[arg-type]
        assert await asyncio.wait_for(reader.read(1), WAIT) == b"\x81"  # the OPEN packet's frame
        (protocol,) = [o for o in gc.get_objects() if isinstance(o, LeanWebSocketProtocol)]
        relay = protocol.transport
        guard = relay._guard
        assert isinstance(relay, _Relay) and isinstance(guard, GuardedHTTP) and guard.inner is protocol
        assert type(relay).__dictoffset__ == type(guard).__dictoffset__ == 0  # no instance dict
        assert vars(protocol) == {}  # uvicorn's attributes are slots of ours
        writer.transport.abort()
