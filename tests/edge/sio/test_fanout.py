"""The lean fan-out (server/edge/engine/fanout.py) over real uvicorn and stock clients on every transport.

Most tests run a bare python-socketio server with the fan-out manager (so that
the test itself can emit to a sid, a room or with ``skip_sid``); the first runs
the whole Parley app. The library internals the fan-out mirrors are digested with every other
one the engine touches: tests/edge/engine/test_contract.py.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import socketio
import uvicorn
from engineio.payload import Payload
from websockets.asyncio.client import connect

from server.adapters.cluster.redis_hub import RedisHub
from server.edge.engine import jsonmod
from server.edge.engine.eio_server import LeanServer
from server.edge.engine.eio_socket import MAX_PACKETS_PER_POLL
from server.edge.engine.fanout import LeanFanout
from server.edge.engine.wsprotocol import websocket_options
from tests.support import WAIT, LiveServer, gated, listening, running, send
from tests.support import test_settings as settings_for

TRANSPORTS = {"websocket": ["websocket"], "polling": ["polling"], "upgraded": ["polling", "websocket"]}


class Bare:
    """A python-socketio server on Parley's engine with the given manager; every socket joins ``all``."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager
        self.sio = LeanServer(
            async_mode="asgi", client_manager=manager, json=jsonmod, logger=False, engineio_logger=False
        )
        self.sio.on("connect", self._connect)
        self.url = ""

    async def _connect(self, sid: str, _environ: Any, _auth: Any = None) -> None:
        await self.sio.enter_room(sid, "all")


@asynccontextmanager
async def bare_server(manager: Any = None) -> AsyncIterator[Bare]:
    """Serve a ``Bare`` server with uvicorn (its WebSocket protocol, no deflate, as Parley) on 127.0.0.1:0."""
    bare = Bare(manager if manager is not None else LeanFanout())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    bare.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = gated(bare.sio)
    config = uvicorn.Config(app, log_level="warning", **websocket_options())
    async with listening(config, sock):
        yield bare


class Listener:
    """A stock python-socketio client that records event ``n``'s payloads."""

    def __init__(self, transports: list[str]) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.transports = transports
        self.got: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on("n", self.got.put)
        self.sio.on("ack-me", self._ack)

    async def _ack(self, value: Any) -> Any:
        await self.got.put(value)
        return value

    async def connect(self, url: str) -> Listener:
        await self.sio.connect(url, transports=self.transports, wait_timeout=WAIT)
        expected = "polling" if self.transports == ["polling"] else "websocket"
        assert self.sio.transport() == expected  # the python client upgrades inside connect()
        return self

    async def take(self, count: int) -> list[Any]:
        return [await asyncio.wait_for(self.got.get(), WAIT) for _ in range(count)]

    def server_sid(self) -> str:
        return str(self.sio.get_sid())


def sio_of(app: Any) -> Any:
    """The python-socketio server inside Parley's ASGI wrappers."""
    while not hasattr(app, "engineio_server"):
        app = app.app
    return app.engineio_server


async def test_a_broadcast_reaches_every_transport_in_seq_order(live_server: LiveServer):
    alice = await live_server.user("alice")
    await alice.ok("topic:create", {"name": "general"})
    listeners = {}
    for name, transports in TRANSPORTS.items():
        listeners[name] = await live_server.user(name, transports=transports)
        await listeners[name].ok("topic:subscribe", {"topic": "general"})
    manager = sio_of(live_server.app).manager
    direct_before, queued_before = manager.written_directly, manager.queued

    sent = [await send(alice, {"topic": "general", "body": f"m{i}"}) for i in range(30)]

    for name, client in listeners.items():
        got = [await client.next("message") for _ in sent]
        assert [m["seq"] for m in got] == [m["seq"] for m in sent], name
        assert client.sio.transport() == ("polling" if name == "polling" else "websocket")
    assert isinstance(manager, LeanFanout)
    assert manager.written_directly > direct_before  # websocket sockets idle between sends
    assert manager.queued > queued_before  # the polling socket


async def test_a_polling_client_gets_a_backlog_longer_than_one_poll_answer(live_server: LiveServer):
    """The backlog is queued back to back; the stock Python client takes at most 16 packets per poll."""
    alice = await live_server.user("alice")
    token = await live_server.register("bob")
    bob = await live_server.connect("bob", token, transports=["polling"])
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await bob.close()
    sent = [await send(alice, {"topic": "general", "body": f"m{i}"}) for i in range(3 * MAX_PACKETS_PER_POLL)]
    bob = await live_server.connect("bob", token, transports=["polling"])
    got = [await bob.next("message") for _ in sent]
    assert [m["id"] for m in got] == [m["id"] for m in sent]
    assert MAX_PACKETS_PER_POLL <= Payload.max_decode_packets


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_emits_to_a_sid_with_and_without_callback_and_to_a_room_keep_their_order(transport):
    async with bare_server() as bare:
        listener = await Listener(TRANSPORTS[transport]).connect(bare.url)
        other = await Listener(["websocket"]).connect(bare.url)
        sid = listener.server_sid()
        acks: list[Any] = []
        for i in range(200):  # no await below yields to the writers except the callback emits
            if i % 7 == 3:
                await bare.sio.emit("ack-me", i, to=sid, callback=acks.append)
            elif i % 2:
                await bare.sio.emit("n", i, to=sid)
            else:
                await bare.sio.emit("n", i, room="all")
        assert await listener.take(200) == list(range(200))
        in_room = [i for i in range(0, 200, 2) if i % 7 != 3]
        assert await other.take(len(in_room)) == in_room
        await bare.sio.emit("n", "end", to=sid)  # the acks travel before it
        assert await listener.take(1) == ["end"]
        await listener.sio.disconnect()
        await other.sio.disconnect()
    assert sorted(acks) == [i for i in range(200) if i % 7 == 3]


async def test_skip_sid_leaves_out_those_sockets_on_every_transport():
    async with bare_server() as bare:
        listeners = [await Listener(t).connect(bare.url) for t in TRANSPORTS.values() for _ in range(2)]
        skipped = [listeners[0].server_sid(), listeners[2].server_sid(), listeners[4].server_sid()]
        await bare.sio.emit("n", "not for 0, 2, 4", room="all", skip_sid=skipped)
        await bare.sio.emit("n", "only 1 is skipped", room="all", skip_sid=listeners[1].server_sid())
        await bare.sio.emit("n", "everyone", room="all")
        for i, listener in enumerate(listeners):
            expected = ["not for 0, 2, 4"] if i % 2 else []
            expected += [] if i == 1 else ["only 1 is skipped"]
            assert await listener.take(len(expected) + 1) == [*expected, "everyone"], i
            await listener.sio.disconnect()


async def test_fifty_sockets_get_a_burst_of_200_broadcasts_in_order():
    body = "x" * 2000  # 200 x 2 kB per socket passes the transport's write high-water mark
    async with bare_server() as bare:
        kinds = [TRANSPORTS[("websocket", "polling", "upgraded")[i % 3]] for i in range(50)]
        listeners = await asyncio.gather(*(Listener(k).connect(bare.url) for k in kinds))
        for seq in range(200):
            await bare.sio.emit("n", {"seq": seq, "body": body}, room="all")
        for listener in listeners:
            assert [m["seq"] for m in await listener.take(200)] == list(range(200))
        assert bare.manager.written_directly > 0
        assert bare.manager.queued > 0
        await asyncio.gather(*(listener.sio.disconnect() for listener in listeners))


@pytest.mark.parametrize(
    "data",
    [{"a": 1}, ("two", ["args"]), None, "text", [1, 2], b"\x00\x01binary", {"nested": [b"bytes", "x"]}],
    ids=["dict", "tuple", "none", "str", "list", "bytes", "nested-bytes"],
)
async def test_the_frames_are_those_of_python_socketios_own_manager(data):
    """Byte for byte, per recipient, for every payload shape (binary ones take two frames), and
    so is an event encoded once and handed over by ``emit_encoded`` (a backlog's messages)."""
    frames = {}
    for name, manager in (
        ("library", socketio.AsyncManager()),
        ("lean", LeanFanout()),
        ("encoded", LeanFanout()),
    ):
        async with bare_server(manager) as bare:
            url = bare.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
            async with connect(url) as ws:
                assert str(await ws.recv()).startswith("0")  # engine.io open
                await ws.send("40")
                assert str(await ws.recv()).startswith("40")
                if name == "encoded":
                    await manager.emit_encoded(manager.encode("e", data, "/"), "/", "all")
                else:
                    await bare.sio.emit("e", data, room="all")
                await bare.sio.emit("e", "end", room="all")
                got = []
                while (frame := await asyncio.wait_for(ws.recv(), WAIT)) != '42["e","end"]':
                    got.append(frame)
                frames[name] = got
    assert frames["lean"] == frames["encoded"] == frames["library"]
    assert frames["lean"]


async def test_a_websocket_is_known_to_the_fan_out_only_while_it_is_open():
    async with bare_server() as bare:
        ws_listener = await Listener(["websocket"]).connect(bare.url)
        upgraded = await Listener(["polling", "websocket"]).connect(bare.url)
        polling = await Listener(["polling"]).connect(bare.url)
        known = {s.sid for s in bare.manager.websockets}
        assert known == {c.sio.eio.sid for c in (ws_listener, upgraded)}
        assert polling.sio.eio.sid not in known
        for listener in (ws_listener, upgraded, polling):
            await listener.sio.disconnect()
    assert bare.manager.websockets == {}


async def test_an_idle_socket_keeps_no_handshake_leftovers_and_still_works():
    async with bare_server() as bare:
        ws_listener = await Listener(["websocket"]).connect(bare.url)
        polling = await Listener(["polling"]).connect(bare.url)
        for listener in (ws_listener, polling):
            assert "wsgi.input" not in bare.sio.environ[listener.sio.eio.sid]
        [direct] = bare.manager.websockets.values()
        assert direct.protocol.request is None and direct.protocol.response is None
        await bare.sio.emit("n", "still served", room="all")
        for listener in (ws_listener, polling):
            assert await listener.take(1) == ["still served"]
            await listener.sio.disconnect()


@pytest.mark.redis
async def test_with_redis_rooms_stay_local_and_a_broadcast_still_reaches_every_transport(tmp_path):
    url = os.environ.get("PARLEY_TEST_REDIS_URL")
    if not url:
        pytest.skip("PARLEY_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    settings = settings_for(tmp_path / "data", redis_url=url, redis_channel=f"fanout-{os.getpid()}")
    async with running(settings) as live:
        assert type(sio_of(live.app).manager) is LeanFanout  # the hub crosses nodes, not the manager
        assert isinstance(live.chat.hub, RedisHub)
        await test_a_broadcast_reaches_every_transport_in_seq_order(live)
