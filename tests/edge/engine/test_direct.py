"""Frames written straight to a WebSocket's transport: a connection's first frame of a turn of the
loop at once, the frames that follow it in that turn in one write at the turn's end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from server.edge.engine.direct import COALESCE_BYTES, SCOPE_KEPT, frame_of
from tests.edge.engine.test_eio_socket import opened, served, ws_url
from tests.edge.engine.test_wsprotocol import requests_held
from tests.support import WAIT


class CountingTransport:
    """uvicorn's transport of one connection, with the sizes of the writes made to it recorded."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.writes: list[int] = []

    def write(self, data: bytes) -> None:
        self.writes.append(len(data))
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def counted(server: Any) -> CountingTransport:
    """The one connected WebSocket's transport, counting from now on."""
    (direct,) = server.sio.eio.websockets.values()
    counting = CountingTransport(direct.protocol.transport)
    direct.protocol.transport = counting
    return counting


async def test_the_frames_after_the_first_of_a_turn_reach_the_transport_in_one_write_in_order():
    async with served(lean=True) as server, connect(ws_url(server)) as ws:
        await opened(ws)
        transport = counted(server)
        for i in range(100):  # no turn of the loop in between: the lean fan-out writes directly
            await server.sio.emit("n", i)
        for i in range(100):
            assert await asyncio.wait_for(ws.recv(), WAIT) == f'42["n",{i}]'
        assert len(transport.writes) == 2  # the first at once, the other 99 together at the turn's end


async def test_a_connection_with_more_than_the_bound_waiting_writes_at_once():
    """The frames a turn holds back stay bounded: a write is at most the bound plus one frame."""
    body = "x" * 10_000
    async with served(lean=True) as server, connect(ws_url(server), max_size=None) as ws:
        await opened(ws)
        transport = counted(server)
        for i in range(60):
            await server.sio.emit("n", [i, body])
        for i in range(60):
            assert await asyncio.wait_for(ws.recv(), WAIT) == f'42["n",[{i},"{body}"]]'
        assert len(transport.writes) > 1
        assert max(transport.writes) <= COALESCE_BYTES + 10_100
        assert len(transport.writes) < 60


async def test_acks_and_events_of_one_socket_keep_their_order():
    """An ack written directly and events queued behind a busy writer: one order, the server's."""
    async with served(lean=True) as server, connect(ws_url(server)) as ws:
        await opened(ws)
        for i in range(50):
            await ws.send(f'42{i}["e",{i}]')  # the stock handler acks with its arguments
            await server.sio.emit("n", i)
        got = [await asyncio.wait_for(ws.recv(), WAIT) for _ in range(100)]
        assert [frame for frame in got if frame.startswith("43")] == [f"43{i}[{i}]" for i in range(50)]
        assert [frame for frame in got if frame.startswith("42")] == [f'42["n",{i}]' for i in range(50)]


async def test_a_websocket_keeps_no_handshake_headers_once_connected():
    """Memory per socket: uvicorn's copy of the handshake and all of the ASGI scope but what is read
    later (the client address, the path) go; the environ keeps the few headers readers use
    (python-socketio's, the Admin UI's)."""
    async with served(lean=True) as server, connect(ws_url(server), user_agent_header="probe/1") as ws:
        await opened(ws)
        (direct,) = server.sio.eio.websockets.values()
        assert direct.protocol.request is None and direct.protocol.response is None
        assert requests_held(direct.protocol.conn) == []  # nor websockets' parser
        assert vars(direct.protocol) == {}  # every attribute uvicorn set is a slot: no dict of its own
        scope = direct.protocol.scope
        assert set(scope) == {*SCOPE_KEPT, "headers"} and not scope["headers"]
        assert scope["client"][0] == "127.0.0.1" and scope["path"].startswith("/socket.io")
        (environ,) = server.sio.environ.values()
        assert environ["asgi.scope"] is scope  # the address readers find it there
        (sid,) = server.sio.eio.sockets
        assert server.sio.eio.sockets[sid].upgraded  # the session lives on
        await server.sio.emit("n", "after")
        assert await asyncio.wait_for(ws.recv(), WAIT) == '42["n","after"]'


async def test_frames_held_for_the_end_of_a_turn_survive_the_transport_passing_its_high_water_mark():
    """The transport passes its mark (uvicorn's ``pause_writing``) after frames were taken for the end
    of the turn: they are still written (it buffers them), an ack or a message is never dropped."""
    async with served(lean=True) as server, connect(ws_url(server)) as ws:
        await opened(ws)
        (direct,) = server.sio.eio.websockets.values()
        for i in range(10):
            await server.sio.emit("n", i)  # the first written at once, the others held for the turn's end
        direct.protocol.pause_writing()  # as the transport does past its high-water mark
        await asyncio.sleep(0)  # the turn ends: the held frames go out (the transport buffers them)
        direct.protocol.resume_writing()
        await server.sio.emit("n", 10)
        for i in range(11):
            assert await asyncio.wait_for(ws.recv(), WAIT) == f'42["n",{i}]'


async def test_a_frame_to_a_socket_awaiting_its_answer_goes_in_one_write_with_it():
    """A durable send's own ``message`` is written in the group commit's turn, its ack a turn
    later: one write carries both, the message first."""
    async with served(lean=True) as server, connect(ws_url(server)) as ws:
        await opened(ws)

        async def said(sid: str, *_args: Any) -> str:
            await server.sio.emit("n", "yours", to=sid)  # as the group commit's publish
            await asyncio.sleep(0)  # the answer comes a turn later, as the handler's task resumes
            return "stored"

        server.sio.on("said", said)
        transport = counted(server)
        await ws.send('421["said"]')
        assert await asyncio.wait_for(ws.recv(), WAIT) == '42["n","yours"]'
        assert await asyncio.wait_for(ws.recv(), WAIT) == '431["stored"]'
        assert len(transport.writes) == 1

        await ws.send('42["said"]')  # no answer asked for: the event goes at once, alone
        assert await asyncio.wait_for(ws.recv(), WAIT) == '42["n","yours"]'
        assert len(transport.writes) == 2


async def test_a_frame_held_for_an_answer_that_never_comes_is_written_all_the_same():
    """An event nobody handles gets no ack: what waited for it goes out a turn later, and later
    frames go at once again (the socket stops waiting)."""
    async with served(lean=True) as server, connect(ws_url(server)) as ws:
        await opened(ws)
        await ws.send('427["nobody"]')
        await ws.send('428["e","after"]')  # read after the first: the unanswered one was counted
        assert await asyncio.wait_for(ws.recv(), WAIT) == '438["after"]'
        (direct,) = server.sio.eio.websockets.values()
        assert direct.acks_due == 1  # the event nobody answered
        await server.sio.emit("n", "held")
        assert await asyncio.wait_for(ws.recv(), WAIT) == '42["n","held"]'
        assert direct.acks_due == 0
        transport = counted(server)
        await server.sio.emit("n", "at once")
        assert transport.writes  # written in the emit's own turn
        assert await asyncio.wait_for(ws.recv(), WAIT) == '42["n","at once"]'


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_a_frame_is_the_one_websockets_makes_at_every_length_boundary(length: int) -> None:
    text = "é" * (length // 2) + "a" * (length % 2)  # UTF-8: the frame counts bytes, not characters
    assert frame_of(text) == Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
    data = bytes(range(256)) * (length // 256) + bytes(length % 256)
    assert frame_of(data) == Frame(Opcode.BINARY, data).serialize(mask=False)
