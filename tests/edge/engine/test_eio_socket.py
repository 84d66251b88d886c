"""The lean WebSocket path of ``LeanSocket`` (server/edge/engine/eio_socket.py), over real uvicorn.

A new WebSocket session is read in its handler's own task (no task and timer per frame), a
Socket.IO packet goes to python-socketio as text, and a frame sent to one socket (an ack, a ping)
is written straight to the transport when its writer waits on an empty queue. These tests hold
it to the stock python-socketio/engine.io path frame for frame, and to the liveness engine.io's
per-frame timer gave: a client that answers pings stays, one that stops reading is ended.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import socketio
import uvicorn
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from server.edge.engine import jsonmod
from server.edge.engine.eio_server import LeanServer
from server.edge.engine.fanout import LeanFanout
from server.edge.engine.server import allow_packets_up_to
from server.edge.engine.wsprotocol import websocket_options
from tests.support import WAIT, gated, listening

TRANSPORTS = {"websocket": ["websocket"], "polling": ["polling"], "upgraded": ["polling", "websocket"]}


class Served:
    """A python-socketio server whose ``e`` acks its arguments and ``quiet`` answers nothing."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self.url = ""
        self.disconnected = asyncio.Event()
        sio.on("e", self._echo)
        sio.on("quiet", self._quiet)
        sio.on("disconnect", self._gone)

    async def _echo(self, _sid: str, *args: Any) -> Any:
        return args

    async def _quiet(self, _sid: str, *_args: Any) -> None:
        return None

    async def _gone(self, _sid: str, *_reason: Any) -> None:
        self.disconnected.set()


@asynccontextmanager
async def served(lean: bool, **engine: Any) -> AsyncIterator[Served]:
    """The stock server (python-socketio's own engine and manager) or Parley's lean one, on
    uvicorn as Parley runs it (its WebSocket protocol, no deflate, the gate) on 127.0.0.1:0."""
    options: dict[str, Any] = {"async_mode": "asgi", "json": jsonmod}
    options |= {"logger": False, "engineio_logger": False}
    allow_packets_up_to(1_000_000)  # as Parley's server: a batched POST bound by bytes only
    if lean:  # no sweep of every socket (engine.io's service task), as Parley's engine_options
        options["monitor_clients"] = False
        sio: socketio.AsyncServer = LeanServer(client_manager=LeanFanout(), **options, **engine)
    else:
        sio = socketio.AsyncServer(**options, **engine)
    server = Served(sio)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = gated(sio)
    config = uvicorn.Config(app, log_level="warning", **websocket_options())
    async with listening(config, sock):
        yield server


def ws_url(server: Served) -> str:
    return server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"


def random_frames(seed: int) -> list[str | bytes]:
    """A client's frames after CONNECT: events with and without ack ids, text and binary
    arguments, events nobody handles; each acked one is answered, in order, by the server."""
    rng = random.Random(seed)
    values: list[Any] = [0, -7, 2.5, "text", "ünïcødé ✓", "", None, True, [1, [2, [3]]], {"k": {"v": [1]}}]
    frames: list[str | bytes] = []
    for ack_id in range(60):
        name = rng.choice(["e", "e", "e", "quiet", "nobody"])
        args = [rng.choice(values) for _ in range(rng.randint(0, 3))]
        acked = rng.random() < 0.7
        ident = str(ack_id) if acked else ""
        if rng.random() < 0.15:  # a binary attachment: the placeholder packet, then its frame
            body = jsonmod.dumps([name, {"_placeholder": True, "num": 0}, *args])
            frames += [f"451-{ident}{body}", bytes([ack_id, 0, 255])]
        else:
            frames.append(f"42{ident}{jsonmod.dumps([name, *args])}")
    frames.append('42999["e","end"]')
    return frames


async def frames_answered(server: Served, frames: list[str | bytes]) -> list[str | bytes]:
    """Every frame the server sends after CONNECT while it reads ``frames``, up to the last ack."""
    async with connect(ws_url(server)) as ws:
        assert str(await ws.recv()).startswith("0")
        await ws.send("40")
        assert str(await ws.recv()).startswith("40")
        for frame in frames:
            await ws.send(frame)
        got: list[str | bytes] = []
        while (frame := await asyncio.wait_for(ws.recv(), WAIT)) != '43999["end"]':
            got.append(frame)
        return got


@pytest.mark.parametrize("seed", range(5))
async def test_a_websocket_gets_the_frames_the_stock_path_sends(seed):
    """Differential: the same client frames, the same answers byte for byte, in the same order."""
    frames = random_frames(seed)
    answers = {}
    for lean in (False, True):
        async with served(lean) as server:
            answers[lean] = await frames_answered(server, frames)
    assert answers[True] == answers[False]
    assert any(isinstance(frame, bytes) for frame in answers[True])  # binary acks came back too


Call = tuple[str, list[Any], bool]
"""A client's call: the event, its arguments, whether it asks for an ack."""


def random_calls(seed: int) -> list[Call]:
    """Calls like ``random_frames``' frames."""
    rng = random.Random(seed)
    values: list[Any] = [0, -7, 2.5, "text", "ünïcødé ✓", "", None, True, [1, [2, [3]]], {"k": {"v": [1]}}]
    calls = []
    for i in range(60):
        args = [rng.choice(values) for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.15:
            args.append(bytes([i, 0, 255]))  # a binary attachment
        calls.append((rng.choice(["e", "e", "e", "quiet", "nobody"]), args, rng.random() < 0.7))
    return calls


async def calls_answered(server: Served, transport: str, calls: list[Call]) -> list[Any]:
    """What python-socketio's client gets, in order, for ``calls`` on ``transport``, up to the last
    ack: each ack with its call's index and arguments, and each event the server emits to it."""
    client = socketio.AsyncClient(reconnection=False)
    got: list[Any] = []
    end = asyncio.get_running_loop().create_future()
    client.on("*", lambda event, *args: got.append(("event", event, args)))
    await client.connect(server.url, transports=TRANSPORTS[transport], wait_timeout=WAIT)
    for i, (event, args, acked) in enumerate(calls):
        answer = (lambda *a, i=i: got.append(("ack", i, a))) if acked else None
        await client.emit(event, tuple(args), callback=answer)
        if i % 20 == 19:
            await server.sio.emit("n", i)  # events of the server's own between the answers
    await client.emit("e", "end", callback=lambda *_a: end.set_result(None))
    await asyncio.wait_for(end, WAIT)
    await client.disconnect()
    return got


@pytest.mark.parametrize("transport", ["polling", "upgraded"])
@pytest.mark.parametrize("seed", range(3))
async def test_polling_and_upgraded_sessions_get_what_the_stock_path_sends(transport, seed):
    """Differential, as the WebSocket one above but at the client's level (a long-poll's batching
    is the transport's to choose): the same acks, each to its call, and the same events, in order."""
    calls = random_calls(seed)
    answers = {}
    for lean in (False, True):
        # The stock engine.io holds the client's last long-poll after its CLOSE until the ping
        # cycle ends (``LeanSocket.close``): a short cycle there, which no Socket.IO answer shows;
        # Parley's answers it at once and keeps engine.io's default cycle. A 1 s cycle (0.5 + 0.5)
        # ended sessions in CI, where a starved second fell between a PING and its PONG.
        heartbeat = {} if lean else {"ping_interval": 0.5, "ping_timeout": 2.0}
        async with served(lean, **heartbeat) as server:
            answers[lean] = await calls_answered(server, transport, calls)
    assert answers[True] == answers[False]
    handled = sum(1 for event, _args, acked in calls if acked and event != "nobody")  # no handler: no ack
    assert sum(1 for kind, *_ in answers[True] if kind == "ack") == handled
    assert any(isinstance(arg, bytes) for *_, args in answers[True] for arg in args)  # binary acks too


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_acked_calls_in_flight_come_back_each_with_its_own_answer(transport):
    rng = random.Random(transport)
    async with served(lean=True) as server:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(server.url, transports=TRANSPORTS[transport], wait_timeout=WAIT)
        payloads = [[i, "x" * rng.randint(0, 300), {"n": i}] for i in range(200)]
        answers = await asyncio.gather(*(client.call("e", p, timeout=WAIT) for p in payloads))
        assert list(answers) == payloads
        await client.disconnect()


async def test_a_websocket_that_answers_its_pings_outlives_interval_plus_timeout():
    """Pings are written past the queue: the writer, idle for good, must not time out."""
    async with served(lean=True, ping_interval=0.2, ping_timeout=0.2) as server:
        async with connect(ws_url(server)) as ws:
            assert str(await ws.recv()).startswith("0")
            await ws.send("40")
            assert str(await ws.recv()).startswith("40")
            started = time.monotonic()
            pings = 0
            while time.monotonic() - started < 1.0:  # 2.5 x (interval + timeout)
                assert await asyncio.wait_for(ws.recv(), WAIT) == "2"
                pings += 1
                await ws.send("3")
            assert pings >= 4
            await server.sio.emit("n", "still here")
            assert await asyncio.wait_for(ws.recv(), WAIT) == '42["n","still here"]'


async def raw_websocket(server: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket handshake by hand, to a session of its own: the peer then does only what the
    test writes (no PONG, no close frame)."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)).startswith(b"HTTP/1.1 101")
    return reader, writer


async def test_a_websocket_peer_that_stops_reading_is_ended_at_its_ping_deadline():
    """No PONG and no close handshake: the session closes at interval + timeout, the read that
    waits for a frame is cancelled and the WebSocket is forgotten (engine.io's per-frame timer did
    this before)."""
    async with served(lean=True, ping_interval=0.2, ping_timeout=0.2) as server:
        reader, writer = await raw_websocket(server)
        assert await asyncio.wait_for(reader.read(1), WAIT) == b"\x81"  # the OPEN packet's text frame
        websockets = server.sio.eio.websockets
        assert len(websockets) == 1  # the session's WebSocket is known; from now on the peer is mute
        deadline = time.monotonic() + WAIT
        while websockets:
            assert time.monotonic() < deadline, "the mute peer's WebSocket is still served"
            await asyncio.sleep(0.01)
        assert server.sio.eio.sockets == {}
        assert server.disconnected.is_set() is False  # it never connected a namespace
        writer.close()


def server_tasks() -> list[asyncio.Task[Any]]:
    """This loop's tasks but the WebSocket client library's (one reader per client connection)."""
    tasks = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is None or "site-packages/websockets/" not in code.co_filename:
            tasks.append(task)
    return tasks


async def test_an_idle_websocket_session_holds_no_task_and_still_gets_its_pings_and_events():
    """Memory per socket (issues 25 and 58): an idle session runs no task at all. Its connection is
    parked on uvicorn's protocol once set up (no ASGI call waits on it), a reader runs only while
    frames wait (each PONG here starts and ends one), a writer only while packets wait; no ping
    task (the heartbeat runs on timers) and no engine.io service task sweeping every socket. The
    count is awaited until the sessions are idle again, within a deadline; the PONG deadline is
    long, so a loaded machine that answers late does not end a session."""
    sessions = 20
    async with served(lean=True, ping_interval=1.0, ping_timeout=4 * WAIT) as server:
        before = len(server_tasks())
        clients = [await connect(ws_url(server)) for _ in range(sessions)]
        for ws in clients:
            await opened(ws)
        await idle_with_tasks(before)
        for ws in clients:  # a heartbeat cycle: each gets its PING; answered, each stays
            assert await asyncio.wait_for(ws.recv(), WAIT) == "2"
            await ws.send("3")
        await server.sio.emit("n", "to all")
        for ws in clients:
            assert await next_besides_pings(ws) == '42["n","to all"]'
        await idle_with_tasks(before)
        for ws in clients:
            await ws.close()


async def idle_with_tasks(count: int) -> None:
    """The server's tasks come down to ``count`` (writers end once their packets are out)."""
    deadline = time.monotonic() + WAIT
    while len(server_tasks()) != count:
        assert time.monotonic() < deadline, f"{len(server_tasks())} server tasks, not {count}"
        await asyncio.sleep(0.01)


async def next_besides_pings(ws: Any) -> str:
    """The next frame that is not a PING (each PING on the way is answered)."""
    async with asyncio.timeout(WAIT):
        while (frame := str(await ws.recv())) == "2":
            await ws.send("3")
    return frame


async def opened(ws: Any) -> None:
    """OPEN received, the main namespace connected."""
    assert str(await ws.recv()).startswith("0")
    await ws.send("40")
    assert str(await ws.recv()).startswith("40")


async def test_a_websocket_whose_peer_drops_the_connection_is_forgotten_at_once():
    """No CLOSE packet, no close frame: the session is closed and forgotten when the connection
    ends, not by a periodic sweep (engine.io's service task does not run)."""
    async with served(lean=True, ping_interval=25, ping_timeout=20) as server:
        reader, writer = await raw_websocket(server)
        assert await asyncio.wait_for(reader.read(1), WAIT) == b"\x81"
        assert len(server.sio.eio.sockets) == 1
        writer.transport.abort()  # a TCP reset: the peer is gone
        deadline = time.monotonic() + WAIT  # well before a ping cycle (45 s) could end it
        while server.sio.eio.sockets or server.sio.eio.websockets:
            assert time.monotonic() < deadline, "the dropped session is still known"
            await asyncio.sleep(0.01)
        assert not any("_service_task" in repr(task.get_coro()) for task in asyncio.all_tasks())


async def test_a_post_that_finds_its_ping_deadline_passed_before_the_timer_fired_is_a_400():
    """The deadline's timer ends a silent session; a POST the loop served first (a loaded loop runs
    the request's callbacks before a due timer) must get the unknown session's 400 too, not
    engine.io's 500 (its POST branch leaves its answer unset when the socket is already gone)."""
    async with served(lean=True, ping_interval=5, ping_timeout=5) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
            params = {"EIO": "4", "transport": "polling"}
            opened = await http.get("/socket.io/", params=params)
            sid = json.loads(opened.text[1:])["sid"]
            session = server.sio.eio.sockets[sid]
            session.ping_deadline = asyncio.get_running_loop().time()  # due now, its timer not yet run

            late = await http.post("/socket.io/", params=params | {"sid": sid}, content=b"40")

        assert late.status_code == 400, late.text
        assert late.json() == {"code": 1, "message": "Session ID unknown"}
        assert sid not in server.sio.eio.sockets


async def test_a_pong_that_arrives_alone_starts_the_next_cycle_without_a_reader_task():
    """An idle socket sends only its PONGs, one per ping interval: handled where they arrive, they
    start no reader task (idle heartbeats were most of a loaded server's CPU, issue 58). Each PONG
    still starts the next cycle: the next PING comes, and the session outlives interval + timeout."""
    loop = asyncio.get_running_loop()
    started: list[str] = []

    def counting(loop: asyncio.AbstractEventLoop, coro: Any, **options: Any) -> asyncio.Task[Any]:
        started.append(getattr(coro, "__qualname__", ""))
        return asyncio.Task(coro, loop=loop, **options)

    async with served(lean=True, ping_interval=0.2, ping_timeout=0.2) as server:
        async with connect(ws_url(server)) as ws:
            await opened(ws)
            loop.set_task_factory(counting)
            try:
                answered = time.monotonic()
                for _ in range(5):  # 1 s: 2.5 x (interval + timeout)
                    assert await asyncio.wait_for(ws.recv(), WAIT) == "2"
                    await ws.send("3")
                answered = time.monotonic() - answered
            finally:
                loop.set_task_factory(None)
            assert "LeanSocket._read_frames" not in started
            await server.sio.emit("n", "still here")  # the frames after them are read as before
            assert await next_besides_pings(ws) == '42["n","still here"]'
            await ws.send('420["e","after"]')
            assert await next_besides_pings(ws) == '430["after"]'
        assert answered >= 0.8  # five cycles of 0.2 s each: none began before its PONG


def client_frame(text: str) -> bytes:
    """A client's (masked) WebSocket text frame."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=True)


async def server_text(reader: asyncio.StreamReader) -> str:
    """The next text frame from the server (short and unmasked, as these are)."""
    head = await asyncio.wait_for(reader.readexactly(2), WAIT)
    assert head[0] == 0x81 and head[1] < 126, head
    return (await asyncio.wait_for(reader.readexactly(head[1]), WAIT)).decode()


@pytest.mark.parametrize("burst", [["3", '420["e",1]'], ['420["e",1]', "3"], ["3", "3", '420["e",1]']])
async def test_a_pong_that_arrives_with_other_frames_is_read_in_turn_with_them(burst):
    """A PONG in one TCP segment with an event (before or after it) is not taken out of turn: the
    event is answered, and the PONG starts the next cycle, so the session lives on."""
    async with served(lean=True, ping_interval=0.2, ping_timeout=0.2) as server:
        reader, writer = await raw_websocket(server)
        assert (await server_text(reader)).startswith("0")
        writer.write(client_frame("40"))
        assert (await server_text(reader)).startswith("40")
        assert await server_text(reader) == "2"
        writer.write(b"".join(client_frame(text) for text in burst))
        while (answer := await server_text(reader)) == "2":  # a loaded machine's late answer
            writer.write(client_frame("3"))
        assert answer == "430[1]"
        for _ in range(4):  # 0.8 s: past interval + timeout of the burst's cycle
            assert await server_text(reader) == "2"
            writer.write(client_frame("3"))
        assert len(server.sio.eio.sockets) == 1
        writer.close()
