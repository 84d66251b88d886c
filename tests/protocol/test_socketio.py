"""Socket.IO protocol v5 conformance (socketio/socket.io-protocol), raw packets on both transports.

Against the conformance app (``server.edge.engine.conformance``): namespaces ``/`` and
``/custom`` accept any CONNECT and emit ``auth`` with its payload;
``message`` comes back as ``message-back``; ``message-with-ack`` is acked with
its arguments. Every case runs over WebSocket and over long-polling
(``tests/protocol/support.py``: the wire answers pings and skips them).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.protocol.support import WAIT, Served, Wire, open_wire, serving

TRANSPORTS = ["websocket", "polling"]
ATTACHMENTS = '{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}'


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """A 5 s heartbeat: a polling case's few POSTs, with no GET between them to answer a ping,
    outlive the suites' 0.5 s session on a loaded machine (the session ends, "Session ID unknown")."""
    async with serving(tmp_path, ping_interval=5.0, ping_timeout=5.0) as served:
        yield served


@pytest.fixture
async def quick(tmp_path: Path) -> AsyncIterator[Served]:
    """The suites' heartbeat (0.3 s + 0.2 s), for the case about the heartbeat itself."""
    async with serving(tmp_path) as served:
        yield served


@pytest.fixture(params=TRANSPORTS)
async def wire(request: pytest.FixtureRequest, served: Served) -> AsyncIterator[Wire]:
    """A raw Engine.IO session, no Socket.IO CONNECT sent yet."""
    opened = await open_wire(served, request.param)
    yield opened
    await opened.close()


async def connected(wire: Wire, namespace: str = "/", auth: str = "") -> str:
    """CONNECT to ``namespace``; the Socket.IO sid, once the CONNECT reply and ``auth`` arrived."""
    prefix = "" if namespace == "/" else f"{namespace},"
    await wire.send(f"40{prefix}{auth}")
    reply = str(await wire.recv())
    assert reply.startswith(f"40{prefix}"), reply
    handshake = json.loads(reply[len(f"40{prefix}") :])
    assert set(handshake) == {"sid"} and isinstance(handshake["sid"], str)
    assert await wire.recv() == f'42{prefix}["auth",{auth or "{}"}]'
    return str(handshake["sid"])


# Connect ---------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", ["/", "/custom"])
@pytest.mark.parametrize("auth", ["", '{"token":"123"}'])
async def test_a_namespace_accepts_a_connect_and_gets_its_payload_back(wire, namespace, auth):
    await connected(wire, namespace, auth)


async def test_an_unknown_namespace_is_refused_with_invalid_namespace(wire):
    await wire.send("40/random,")

    assert await wire.recv() == '44/random,{"message":"Invalid namespace"}'


async def test_an_invalid_handshake_closes_the_connection(wire):
    await wire.send("4abc")

    assert await wire.closed() == []


async def test_a_transport_without_a_connect_is_closed_at_the_connect_timeout(tmp_path):
    # A slow heartbeat: the connect timeout, not a missing pong, closes the transport.
    async with serving(tmp_path, connect_timeout=0.3, ping_interval=5.0, ping_timeout=5.0) as served:
        for transport in TRANSPORTS:
            silent = await open_wire(served, transport)
            assert await silent.closed() == [], transport


# Disconnect ------------------------------------------------------------------------


async def test_after_a_disconnect_from_the_main_namespace_its_events_are_not_handled(wire):
    await connected(wire)
    await wire.send("41")
    await wire.send('42["message","after the disconnect"]')
    await wire.send("40")  # connected again: the next packet is its CONNECT reply, no message-back

    assert str(await wire.recv()).startswith("40{")


async def test_a_custom_namespace_connects_and_disconnects_and_the_main_one_stays(wire):
    await connected(wire)
    await connected(wire, "/custom")
    await wire.send("41/custom,")
    await wire.send('42/custom,["message","to custom"]')
    await wire.send('42["message","to main"]')

    assert await wire.recv() == '42["message-back","to main"]'


# Messages --------------------------------------------------------------------------


async def test_a_plain_text_event_is_echoed(wire):
    await connected(wire)
    await wire.send('42["message",1,"2",{"3":[true]}]')

    assert await wire.recv() == '42["message-back",1,"2",{"3":[true]}]'


async def test_a_plain_text_event_is_acked_with_its_arguments(wire):
    await connected(wire)
    await wire.send('42456["message-with-ack",1,"2",{"3":[false]}]')

    assert await wire.recv() == '43456[1,"2",{"3":[false]}]'


async def test_an_event_with_binary_attachments_is_echoed(wire):
    await connected(wire)
    await wire.send(f'452-["message",{ATTACHMENTS}]')
    await wire.send(bytes([1, 2, 3]))
    await wire.send(bytes([4, 5, 6]))

    assert [await wire.recv() for _ in range(3)] == [
        f'452-["message-back",{ATTACHMENTS}]',
        bytes([1, 2, 3]),
        bytes([4, 5, 6]),
    ]


async def test_an_event_with_binary_attachments_is_acked_with_them(wire):
    await connected(wire)
    await wire.send(f'452-789["message-with-ack",{ATTACHMENTS}]')
    await wire.send(bytes([1, 2, 3]))
    await wire.send(bytes([4, 5, 6]))

    assert [await wire.recv() for _ in range(3)] == [
        f"462-789[{ATTACHMENTS}]",
        bytes([1, 2, 3]),
        bytes([4, 5, 6]),
    ]


async def test_a_custom_namespace_echoes_in_that_namespace(wire):
    await connected(wire, "/custom")
    await wire.send('42/custom,7["message-with-ack","x"]')

    assert await wire.recv() == '43/custom,7["x"]'


INVALID = [
    pytest.param("4abc", id="unknown-packet-type"),
    pytest.param("49", id="packet-type-9"),
    pytest.param("42{}", id="event-payload-not-an-array"),
    pytest.param("42[]", id="event-without-a-name"),
    pytest.param("42[null]", id="event-name-null"),
    pytest.param('42abc["message-with-ack",1,"2",{"3":[false]}]', id="ack-id-not-a-number"),
    pytest.param("43456{}", id="ack-payload-not-an-array"),
    pytest.param('42["message",1', id="truncated-json"),
    pytest.param('44{"message":"from a client"}', id="connect-error-from-a-client"),
]


@pytest.mark.parametrize("packet", INVALID)
async def test_an_invalid_packet_closes_the_connection(wire, packet):
    await connected(wire)
    await wire.send(packet)

    assert await wire.closed() == []


# Heartbeat and upgrade -------------------------------------------------------------


async def test_a_polling_session_that_never_answered_its_ping_is_gone_at_interval_plus_timeout(quick):
    """socket.io-protocol's case: CONNECT, no GET, then one at pingInterval + pingTimeout: a 400.

    The wait is the bound under test, not a synchronisation: the server runs on this loop and
    its clock, and its session began before the handshake's answer was read here.
    """
    wire = await open_wire(quick, "polling")
    await wire.send("40")
    assert str(await wire.recv()).startswith("40{")
    await asyncio.sleep(0.3 + 0.2)
    late = await quick.poll("/socket.io/", wire.opened["sid"])

    assert late.status_code == 400


async def test_the_first_frame_after_an_upgrade_is_the_connect_reply_not_a_noop(tmp_path):
    # A slow heartbeat: no ping comes first on the WebSocket.
    async with serving(tmp_path, ping_interval=5.0, ping_timeout=5.0) as served:
        opened = await served.handshake("/socket.io/")
        ws = await connect(served.ws_url("/socket.io/", sid=opened["sid"]), open_timeout=WAIT)
        await ws.send("2probe")
        assert await asyncio.wait_for(ws.recv(), WAIT) == "3probe"
        poll = await served.poll("/socket.io/", opened["sid"])
        await ws.send("5")
        await ws.send("40")
        first = str(await asyncio.wait_for(ws.recv(), WAIT))
        await ws.close()

    assert (poll.status_code, poll.text) == (200, "6")
    assert first.startswith("40{"), first
