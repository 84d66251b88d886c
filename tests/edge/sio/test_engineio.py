"""Engine.IO settings and transport hygiene (PROTOCOL.md 5a).

The handshake advertises the heartbeat and upgrades exactly as configured; a
transport that never sends a Socket.IO CONNECT is closed after the connect
timeout; a packet that cannot be decoded closes its connection (and only it),
is counted, never reaches a handler and never logs a traceback.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from db.models import Message
from tests.edge.sio.logs import captured
from tests.edge.sio.polling import Closed, RawPolling
from tests.support import WAIT, LiveServer, count, running
from tests.support import test_settings as settings_for

PATH = "/socket.io/"


@pytest.fixture
def serve(tmp_path: Path) -> Any:
    """``async with serve(**overrides) as live``: a server with these settings."""

    def start(**overrides: Any) -> Any:
        return running(settings_for(tmp_path / "data", **overrides))

    return start


async def handshake(live: LiveServer) -> dict[str, Any]:
    return await RawPolling(live.http).open()


async def websocket(live: LiveServer) -> ClientConnection:
    """A raw Engine.IO WebSocket, its OPEN packet read."""
    ws = await connect(live.url.replace("http", "ws") + PATH + "?EIO=4&transport=websocket")
    assert str(await ws.recv()).startswith("0")
    return ws


async def closed_by_server(ws: ClientConnection) -> list[str]:
    """Everything the server sent until it closed the WebSocket (bounded by a deadline)."""
    frames: list[str] = []

    async def drain() -> None:
        try:
            while True:
                frames.append(str(await ws.recv()))
        except ConnectionClosed:
            return

    await asyncio.wait_for(drain(), 3 * WAIT)
    return frames


async def polling_closed(raw: RawPolling) -> None:
    """Poll until the server ends the session (bounded by a deadline)."""
    with pytest.raises(Closed):
        await raw.until(lambda _: False, timeout=3 * WAIT)


# The handshake ---------------------------------------------------------------------


async def test_the_handshake_advertises_the_defaults(live_server):
    opened = await handshake(live_server)

    assert (opened["pingInterval"], opened["pingTimeout"]) == (25_000, 20_000)
    assert opened["upgrades"] == ["websocket"]
    assert opened["maxPayload"] == 64 * 1024


@pytest.mark.parametrize(
    ("interval", "timeout"),
    [(7, 3.5), (0.3, 0.2), (2.5, 0.57)],  # python-engineio alone: 0 ms for 0.3 s, 2000 for 2.5, 569 for 0.57
)
async def test_the_handshake_advertises_the_configured_heartbeat(serve, interval, timeout):
    async with serve(ping_interval=interval, ping_timeout=timeout) as live:
        opened = await handshake(live)
        ws = await connect(live.url.replace("http", "ws") + PATH + "?EIO=4&transport=websocket")
        over_websocket = json.loads(str(await ws.recv())[1:])
        await ws.close()

    expected = (round(interval * 1000), round(timeout * 1000))
    assert (opened["pingInterval"], opened["pingTimeout"]) == expected
    assert (over_websocket["pingInterval"], over_websocket["pingTimeout"]) == expected


async def test_a_fractional_ping_interval_is_kept(serve):
    """The server pings every configured 0.3 s, not every rounded whole second. The median of four
    intervals between pings (each answered) is judged: one interval alone was 1.2 s once, on a CI
    machine whose loop stalled, while a rounding would make every interval a second or more."""
    async with serve(ping_interval=0.3, ping_timeout=5) as live:
        ws = await websocket(live)
        loop = asyncio.get_running_loop()
        pinged: list[float] = []
        for _ in range(5):
            assert await asyncio.wait_for(ws.recv(), WAIT) == "2"
            pinged.append(loop.time())
            await ws.send("3")
        await ws.close()

    intervals = sorted(later - earlier for earlier, later in pairwise(pinged))
    assert 0.25 <= intervals[len(intervals) // 2] < 0.9, intervals  # neither 0 s nor 1 s


@pytest.mark.parametrize(
    ("method", "query", "code"),
    [
        pytest.param("GET", {"EIO": "4"}, 0, id="no-transport"),
        pytest.param("GET", {"EIO": "4", "transport": "abc"}, 0, id="unknown-transport"),
        pytest.param("GET", {"transport": "polling"}, 5, id="no-eio"),
        pytest.param("GET", {"EIO": "abc", "transport": "polling"}, 5, id="bad-eio"),
        pytest.param("GET", {"EIO": "3", "transport": "polling"}, 5, id="eio-3"),
        pytest.param("POST", {"EIO": "4", "transport": "polling"}, 2, id="post-handshake"),
        pytest.param("PUT", {"EIO": "4", "transport": "polling"}, 2, id="put-handshake"),
        pytest.param("GET", {"EIO": "4", "transport": "polling", "sid": "nope"}, 1, id="unknown-sid"),
    ],
)
async def test_a_malformed_handshake_is_a_400_with_the_reference_error(live_server, method, query, code):
    """As the reference server (engine.io-protocol): a JSON {code, message}, never 200 or 405."""
    answer = await live_server.http.request(method, PATH, params=query)

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["code"] == code


async def test_polling_only_offers_no_upgrade_and_refuses_websocket(serve):
    async with serve(transports=["polling"]) as live:
        opened = await handshake(live)
        with pytest.raises(InvalidStatus) as refused:
            await websocket(live)

    assert opened["upgrades"] == []
    assert refused.value.response.status_code == 400  # the reference's {code, message}, not uvicorn's 403


async def test_websocket_only_refuses_polling_and_serves_websocket(serve):
    async with serve(transports=["websocket"]) as live:
        refused = await live.http.get(PATH, params={"EIO": "4", "transport": "polling"})
        alice = await live.user("alice", transports=["websocket"])
        topics = await alice.ok("topic:list", {})

    assert refused.status_code == 400
    assert "topics" in topics


# The connect timeout ---------------------------------------------------------------


async def test_a_polling_transport_without_a_socketio_connect_is_closed(serve):
    async with serve(connect_timeout=0.2) as live:
        alice = await live.user("alice")  # connected first: its timer would have fired first
        silent = RawPolling(live.http)
        await silent.open()

        await polling_closed(silent)

        assert alice.connected
        assert "topics" in await alice.ok("topic:list", {})


async def test_a_websocket_without_a_socketio_connect_is_closed(serve):
    async with serve(connect_timeout=0.2) as live:
        alice = await live.user("alice", transports=["websocket"])
        silent = await websocket(live)

        await closed_by_server(silent)

        assert alice.connected
        assert "topics" in await alice.ok("topic:list", {})


async def test_a_transport_whose_connect_was_refused_is_closed_at_the_connect_timeout(serve):
    """A refused CONNECT does not keep the transport open (the reference's connectTimeout)."""
    async with serve(connect_timeout=0.3) as live:
        refused = await websocket(live)
        await refused.send('40{"token":"not-a-token"}')
        frames = await closed_by_server(refused)

    assert [f for f in frames if f.startswith("44")], frames


async def test_a_transport_whose_namespace_connected_keeps_no_connect_timeout(serve):
    """As the reference (its ``connectTimeout`` cleared at the first namespace connected): a
    transport that connected and then left ``/`` stays open, and holds no timer meanwhile."""
    async with serve(connect_timeout=0.3) as live:
        token = await live.register("alice")
        ws = await websocket(live)
        await ws.send(json_connect(token))
        assert str(await asyncio.wait_for(ws.recv(), WAIT)).startswith('40{"sid"')
        await ws.send("41")  # leaves "/", keeps the transport
        later = await websocket(live)  # its timer is set after the first's would have been

        await closed_by_server(later)  # its timer fired: the first's, set earlier, would have too

        await ws.send(json_connect(token))  # still open: it connects again
        assert (await next_connect(ws)).startswith('40{"sid"')
        await ws.close()


def json_connect(token: str) -> str:
    return "40" + json.dumps({"token": token})


async def next_connect(ws: ClientConnection) -> str:
    """The next CONNECT answer, past the events of the first connect still on their way."""
    async with asyncio.timeout(WAIT):
        while not (frame := str(await ws.recv())).startswith("40"):
            pass
    return frame


async def test_an_unknown_namespace_gets_invalid_namespace(live_server):
    ws = await websocket(live_server)
    await ws.send("40/nowhere,")
    answer = await asyncio.wait_for(ws.recv(), WAIT)
    await ws.close()

    assert answer == '44/nowhere,{"message":"Invalid namespace"}'


# Undecodable packets ---------------------------------------------------------------

UNDECODABLE = [
    pytest.param("4abc", id="socketio-type-not-a-digit"),
    pytest.param("49", id="socketio-unknown-type"),
    pytest.param("44{}", id="socketio-connect-error-from-a-client"),
    pytest.param("4", id="socketio-empty"),
    pytest.param("42{}", id="event-payload-not-an-array"),
    pytest.param('42abc["topic:list",{}]', id="ack-id-not-a-number"),
    pytest.param("43", id="ack-without-payload"),
    pytest.param('42["topic:list",{"unterminated":', id="event-truncated-json"),
    pytest.param('421["history",{"topic":"lobby","limit":NaN}]', id="event-nan"),
    pytest.param('421["message:send",{"topic":"lobby","body":"cut \\ud83d"}]', id="event-lone-surrogate"),
    pytest.param("9", id="engineio-unknown-type"),
    pytest.param("xyz", id="engineio-type-not-a-digit"),
    pytest.param("b!!!", id="engineio-bad-base64"),
]


def undecodable_count(metrics: str) -> float:
    found = re.search(r"^parley_undecodable_packets_total (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(settings_for(tmp_path / "data")) as live:
        yield live


async def check_only_that_connection_closed(live: LiveServer, bystander: Any, logged: Any) -> None:
    assert bystander.connected
    assert "topics" in await bystander.ok("topic:list", {})
    assert await count(live, Message) == 0
    assert undecodable_count((await live.http.get("/metrics")).text) == 1
    assert logged.tracebacks() == []


@pytest.mark.parametrize("frame", UNDECODABLE)
async def test_an_undecodable_packet_over_polling_closes_that_connection(server, frame):
    token = await server.register("alice")
    bystander = await server.connect("alice", token)
    raw = RawPolling(server.http)
    await raw.connect({"token": token})

    with captured() as logged:
        await raw.post(frame)
        await polling_closed(raw)

        await check_only_that_connection_closed(server, bystander, logged)
    assert not [p for p in raw.inbox if p.startswith("43")], "the undecodable packet was answered"


@pytest.mark.parametrize("frame", UNDECODABLE)
async def test_an_undecodable_packet_over_websocket_closes_that_connection(server, frame):
    token = await server.register("alice")
    bystander = await server.connect("alice", token, transports=["websocket"])
    ws = await websocket(server)
    await ws.send("40" + json.dumps({"token": token}))

    with captured() as logged:
        await ws.send(frame)
        frames = await closed_by_server(ws)

        await check_only_that_connection_closed(server, bystander, logged)
    assert not [f for f in frames if f.startswith("43")], "the undecodable packet was answered"
