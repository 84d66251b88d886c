"""Parley's uvicorn WebSocket protocol: a light receive queue, reading paused only past a bound,
and no uvicorn keepalive where Engine.IO has its own heartbeat."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from server.edge.engine.serving import PromptServer
from server.edge.engine.wsprotocol import (
    RECEIVE_BUFFER,
    LeanWebSocketProtocol,
    ReceiveQueue,
    Writable,
    frames_only,
    websocket_options,
    whole_text_frame,
)
from tests.support import WAIT


class Held:
    """An ASGI app that accepts every WebSocket and reads its messages only once told to."""

    def __init__(self) -> None:
        self.read = asyncio.Event()
        self.got: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await self.read.wait()
        while (message := await receive())["type"] == "websocket.receive":
            self.got.append(message["text"])


@asynccontextmanager
async def serving(app: Held) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """``app`` on uvicorn with Parley's WebSocket options (and uvicorn's keepalive on, 30 s)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    url = f"ws://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(app, log_level="warning", ws_ping_interval=30, **websocket_options())
    server = PromptServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:  # uvicorn exposes no event for this
                await asyncio.sleep(0.01)
        yield url, server
    finally:
        app.read.set()  # the connection's app reads on to the client's close
        server.should_exit = True
        await task


async def connection(server: uvicorn.Server) -> LeanWebSocketProtocol:
    """The one WebSocket connection ``server`` serves, once its handshake is complete."""
    async with asyncio.timeout(WAIT):
        while True:
            found = [p for p in server.server_state.connections if isinstance(p, LeanWebSocketProtocol)]
            if found and found[0].handshake_complete:
                return found[0]
            await asyncio.sleep(0.01)


async def test_an_engine_io_websocket_gets_no_uvicorn_keepalive_and_another_keeps_it():
    for path, keepalive in (("/socket.io/?EIO=4&transport=websocket", False), ("/compat/rooms", True)):
        async with serving(Held()) as (url, server), connect(url + path):
            protocol = await connection(server)
            assert (protocol.ping_timer is not None) is keepalive, path


async def test_messages_wait_unpaused_up_to_the_bound_then_reading_pauses_and_all_arrive_in_order():
    app = Held()
    small = [f"m{i}" for i in range(20)]
    large = ["x" * 10_000 + str(i) for i in range(RECEIVE_BUFFER // 10_000 + 2)]
    async with serving(app) as (url, server), connect(url + "/compat/rooms") as ws:
        protocol = await connection(server)
        for text in small:
            await ws.send(text)
        async with asyncio.timeout(WAIT):
            while protocol.queue.qsize() < len(small):
                await asyncio.sleep(0.01)
        assert protocol.read_paused is False  # uvicorn alone pauses after every message
        for text in large:
            await ws.send(text)
        async with asyncio.timeout(WAIT):
            while not protocol.read_paused:
                await asyncio.sleep(0.01)
        # past the bound only what the read that crossed it held (asyncio reads 256 KiB at most)
        assert protocol.queue.size <= RECEIVE_BUFFER + 256 * 1024
        app.read.set()
        async with asyncio.timeout(WAIT):
            while len(app.got) < len(small) + len(large):
                await asyncio.sleep(0.01)
        assert app.got == small + large
        assert protocol.read_paused is False


async def test_the_receive_queue_hands_messages_over_in_order_to_a_waiting_reader():
    queue = ReceiveQueue()
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait({"type": "websocket.receive", "text": "first"})
    queue.put_nowait({"type": "websocket.receive", "bytes": b"second"})
    assert (await reader)["text"] == "first"
    assert queue.size == len(b"second") and not queue.empty()
    assert (await queue.get())["bytes"] == b"second"
    assert queue.size == 0 and queue.empty()


async def test_writable_is_an_event_as_uvicorn_uses_it_without_a_deque_until_one_waits() -> None:
    flag = Writable()
    assert not flag.is_set() and flag._waiters is None
    first = asyncio.ensure_future(flag.wait())
    second = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)  # both wait
    assert not first.done() and len(flag._waiters or ()) == 2
    flag.set()
    assert await asyncio.wait_for(first, WAIT) is True and await asyncio.wait_for(second, WAIT) is True
    assert flag.is_set() and flag._waiters is None
    assert await flag.wait() is True  # set: at once
    flag.clear()
    cancelled = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    assert not flag._waiters, "a cancelled waiter is forgotten"
    flag.set()
    assert flag.is_set()


HANDSHAKE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"User-Agent: probe/1\r\n\r\n"
)


def accepted() -> ServerProtocol:
    """websockets' server side of one connection, its handshake read and answered."""
    conn = ServerProtocol()
    conn.receive_data(HANDSHAKE)
    (request,) = conn.events_received()
    conn.send_response(conn.accept(request))
    conn.data_to_send()
    return conn


def requests_held(conn: ServerProtocol) -> list[Request]:
    """The handshake requests the suspended frames of ``conn``'s parser keep."""
    held, generator = [], conn.parser
    while generator is not None:
        if generator.gi_frame is not None:
            held += [value for value in generator.gi_frame.f_locals.values() if isinstance(value, Request)]
        generator = generator.gi_yieldfrom
    return held


def client_frame(text: str) -> bytes:
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=True)


def test_a_connected_websockets_parser_keeps_no_handshake_request_and_reads_on():
    conn = accepted()
    assert requests_held(conn)  # websockets' own parser: the request, headers and all, for life
    assert frames_only(conn)
    assert requests_held(conn) == []
    conn.receive_data(client_frame("40") + client_frame("42"))
    assert [event.data for event in conn.events_received()] == [b"40", b"42"]
    conn.receive_data(Frame(Opcode.CLOSE, b"\x03\xe8").serialize(mask=True))  # close, 1000
    assert conn.events_received()[0].opcode is Opcode.CLOSE  # the close handshake as before


def test_a_parser_in_the_middle_of_a_frame_is_kept():
    conn = accepted()
    frame = client_frame("40")
    conn.receive_data(frame[:3])  # a client that did not wait for the answer: half a frame read
    parser = conn.parser
    assert not frames_only(conn)
    assert conn.parser is parser
    conn.receive_data(frame[3:])
    assert [event.data for event in conn.events_received()] == [b"40"]


def websockets_reads(segment: bytes) -> bytes | None:
    """The data of the one whole TEXT frame with FIN that websockets' parser reads ``segment`` as, on
    an open connection between frames; None when it reads anything else (or fails, or waits)."""
    conn = accepted()
    conn.receive_data(segment)
    events = conn.events_received()
    if conn.parser_exc is not None or conn.reader.buffer or conn.current_size is not None:
        return None
    if len(events) != 1 or events[0].opcode is not Opcode.TEXT or not events[0].fin:
        return None
    return bytes(events[0].data)


def random_segment(rng: random.Random) -> bytes:
    """A segment a client (or an attacker) might send: one frame of any kind, length and masking,
    with a reserved bit, cut short, or followed by more."""
    opcode = rng.choice([Opcode.TEXT] * 6 + [Opcode.BINARY, Opcode.CONT, Opcode.PING, Opcode.PONG])
    length = rng.choice([0, 1, 2, 5, 124, 125, 126, 127, 1000, 65535, 65536])
    data = (rng.choice([b"3", b'420["e",1]', "é€".encode(), b"\xff\xfe", b"x"]) * length)[:length]
    control = opcode in (Opcode.PING, Opcode.PONG)
    fin = control or rng.random() < 0.85
    segment = Frame(opcode, data[:125] if control else data, fin).serialize(mask=rng.random() < 0.9)
    shape = rng.random()
    if shape < 0.05:
        segment = bytes([segment[0] | 0x40]) + segment[1:]  # RSV1 without the extension that uses it
    elif shape < 0.15:
        segment = segment[: rng.randrange(len(segment))]
    elif shape < 0.25:
        segment += client_frame("3")
    elif shape < 0.3:
        segment += b"\x00"
    return segment


def test_a_segment_read_as_one_whole_text_frame_is_what_websockets_parses_it_to():
    """``whole_text_frame`` reads only what websockets would read as one whole text frame, and reads
    it to the same data; anything else is left to websockets (a differential over random segments)."""
    rng = random.Random(58)
    taken = 0
    for _ in range(3000):
        segment = random_segment(rng)
        ours = whole_text_frame(segment)
        if ours is not None:
            taken += 1
            assert ours == websockets_reads(segment), segment[:16]
    assert taken > 600  # the common case is read here: a client's whole text frame
    for text in ("3", "x" * 125, "x" * 126, "é" * 30_000, "x" * 65_535):
        assert whole_text_frame(client_frame(text)) == text.encode()
    assert whole_text_frame(client_frame("x" * 65_536)) is None  # a 64-bit length: websockets'
    assert whole_text_frame(Frame(Opcode.TEXT, b"3").serialize(mask=False)) is None  # unmasked


async def raw_served(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket handshake by hand on a path uvicorn keeps alive (not Engine.IO's)."""
    host, port = url.removeprefix("ws://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(HANDSHAKE.replace(b"/socket.io/?EIO=4&transport=websocket", b"/compat/rooms"))
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)).startswith(b"HTTP/1.1 101")
    return reader, writer


async def close_code(reader: asyncio.StreamReader) -> int:
    """The code of the close frame the server sends (nothing else comes first here): the first two
    bytes of its payload, a reason may follow."""
    head = await asyncio.wait_for(reader.readexactly(2), WAIT)
    assert head[0] == 0x88 and head[1] < 126, head
    return int.from_bytes((await asyncio.wait_for(reader.readexactly(head[1]), WAIT))[:2])


@pytest.mark.parametrize(
    ("segments", "code"),
    [
        ([Frame(Opcode.TEXT, b"\xff\xfe").serialize(mask=True)], 1007),  # not UTF-8
        ([Frame(Opcode.TEXT, b"4", fin=False).serialize(mask=True), client_frame("3")], 1002),
    ],
    ids=["invalid-utf-8", "a-whole-frame-inside-a-fragmented-message"],
)
async def test_a_whole_text_frame_that_websockets_would_refuse_is_refused(segments, code):
    """Read without websockets' parser or not, a frame is refused as websockets and uvicorn refuse it:
    text that is not UTF-8 (1007), a new message before the fragmented one ended (1002)."""
    app = Held()
    app.read.set()
    async with serving(app) as (url, server):
        reader, writer = await raw_served(url)
        protocol = await connection(server)
        for segment in segments[:-1]:  # a fragment, read before the next segment is sent
            writer.write(segment)
            async with asyncio.timeout(WAIT):
                while protocol.conn.current_size is None:
                    await asyncio.sleep(0.01)
        writer.write(segments[-1])
        assert await close_code(reader) == code
        assert app.got == []
        writer.close()
