"""A client that stops reading is closed once its outgoing queue passes the bound,
and gets what it missed from the backlog when it comes back (PROTOCOL.md 2 and 4)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.edge.sio.backlogs import fill, offline_member
from tests.edge.sio.logs import captured
from tests.edge.sio.polling import Closed, RawPolling, acks, event
from tests.support import WAIT, LiveServer, running
from tests.support import test_settings as settings_for

BIG_BODY = "\U0001f600" * 4000  # 4000 code points, 16 kB of UTF-8 on the wire
FLOOD = 400  # ~6.4 MB: past loopback socket buffers and the 256 kB bound below
MAX_HELD = 50  # live events held for a socket still catching up


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = settings_for(
        tmp_path / "data",
        outgoing_queue_bytes=256 * 1024,
        socket_burst=10_000,
        socket_rate=10_000.0,
        max_http_buffer_size=1024 * 1024,  # python-engineio's client POSTs a whole burst at once
        max_held_events=MAX_HELD,
    )
    async with running(settings) as live:
        yield live


async def stalled_subscriber(live: LiveServer, token: str, topic: str) -> ClientConnection:
    """A raw Socket.IO client on a tiny receive buffer that subscribes, then never reads again."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((live.url.split("//")[1].split(":")[0], int(live.url.rsplit(":", 1)[1])))
    ws = await connect(live.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", sock=sock)
    assert str(await ws.recv()).startswith("0")  # engine.io open
    await ws.send("40" + orjson.dumps({"token": token}).decode())
    assert str(await ws.recv()).startswith("40")  # socket.io connect
    await ws.send("421" + orjson.dumps(["topic:subscribe", {"topic": topic}]).decode())
    while not str(frame := await ws.recv()).startswith("431"):  # skip session and such
        assert not str(frame).startswith("44"), frame
    return ws


async def closed_by_server(ws: ClientConnection) -> bool:
    """Read what the server had already sent; True when the connection then ends."""
    try:
        async with asyncio.timeout(3 * WAIT):
            while True:
                await ws.recv()
    except ConnectionClosed:
        return True


async def closed_as_slow(live: LiveServer, count: int = 1) -> bool:
    """Whether ``count`` slow consumers get closed within a bounded time (a deadline, or the sweep)."""
    wanted = f"parley_slow_consumers_closed_total {float(count)}"
    async with asyncio.timeout(3 * WAIT):
        while wanted not in (await live.http.get("/metrics")).text:
            await asyncio.sleep(0.05)  # polling the outcome, bounded above; not a synchronisation
    return True


async def test_a_client_that_stops_reading_is_closed_and_catches_up_on_reconnect(server):
    alice = await server.user("alice")
    bob_token = await server.register("bob")
    await alice.ok("topic:create", {"name": "flood"})
    stalled = await stalled_subscriber(server, bob_token, "flood")

    sent = [await alice.ok("message:send", {"topic": "flood", "body": BIG_BODY}) for _ in range(FLOOD)]

    # It reads nothing until the server has closed it: reading earlier drains its queue, and a
    # client that reads is not a slow consumer (the sends can end before it has stalled long enough).
    assert await closed_as_slow(server)
    assert await closed_by_server(stalled)
    assert alice.connected
    bob = await server.connect("bob", bob_token)
    replayed = [await bob.next("message") for _ in range(len(sent))]
    assert [m["id"] for m in replayed] == [m["id"] for m in sent]


def test_queued_text_counts_the_memory_it_holds_not_its_characters():
    from engineio import packet

    from server.edge.engine.outqueue import OutgoingQueue

    queue = OutgoingQueue()
    for waiting in (
        packet.Packet(packet.MESSAGE, "42" + BIG_BODY),
        None,
        packet.Packet(packet.MESSAGE, b"\x00" * 10),
    ):
        queue.put_nowait(waiting)

    assert queue.bytes >= 4 * len(BIG_BODY) + 10
    while not queue.empty():
        queue.get_nowait()
    assert queue.bytes == 0


# A backlog bigger than the bound, to a client that reads it all --------------------

BACKLOG = 1000  # the backlog's cap per topic; ~1.1 kB each as queued: 4x the 256 kB bound


async def test_a_polling_client_reading_a_backlog_past_the_bound_gets_it_all_every_time(server):
    """The backlog goes out as fast as the long-polls take it (16 packets each), not all at once."""
    alice = await server.user("alice")
    bob_token = await server.register("bob")
    await alice.ok("topic:create", {"name": "big"})
    bob = await server.connect("bob", bob_token, transports=["polling"])
    await bob.ok("topic:subscribe", {"topic": "big"})
    for _round in range(2):  # offline, a backlog stored, back: each time
        await bob.close()
        await fill(alice, "big", BACKLOG)
        bob = await server.connect("bob", bob_token, transports=["polling"])
        received = [await bob.next("message", timeout=6 * WAIT) for _ in range(BACKLOG)]

        assert [m["body"].split()[0] for m in received] == [str(i) for i in range(BACKLOG)]
        assert bob.connected
    metrics = (await server.http.get("/metrics")).text
    assert "parley_slow_consumers_closed_total 0.0" in metrics


# A burst of a polling client's own acked sends, read as they come ------------------

BURST = 2000  # ~2 x 2000 packets of ~300 bytes answer it: past the 256 kB bound


async def test_a_polling_client_bursting_acked_sends_gets_every_ack_and_echo_and_stays(server):
    """Its acks and echoes queue faster than 16-packet long-polls take them: it reads, it stays."""
    bob = await server.user("bob", transports=["polling"])
    await bob.ok("topic:create", {"name": "burst"})

    sends = [{"topic": "burst", "body": f"{i}", "client_id": f"c{i}"} for i in range(BURST)]
    answers = await asyncio.gather(*(bob.sio.call("message:send", s, timeout=6 * WAIT) for s in sends))
    echoes = [await bob.next("message", timeout=6 * WAIT) for _ in range(BURST)]

    assert [answer["ok"] for answer in answers] == [True] * BURST
    assert sorted(int(m["body"]) for m in echoes) == list(range(BURST))
    assert bob.connected
    metrics = (await server.http.get("/metrics")).text
    assert "parley_slow_consumers_closed_total 0.0" in metrics


async def test_a_polling_client_that_stops_getting_is_closed_as_a_slow_consumer(server):
    alice = await server.user("alice")
    bob_token = await server.register("bob")
    await alice.ok("topic:create", {"name": "flood"})
    raw = RawPolling(server.http)
    await raw.connect({"token": bob_token})
    await raw.post(event(1, "topic:subscribe", {"topic": "flood"}))
    await raw.until(lambda got: 1 in acks(got))  # its last GET

    for _ in range(FLOOD):
        await alice.ok("message:send", {"topic": "flood", "body": BIG_BODY})

    assert await closed_as_slow(server)
    with pytest.raises(Closed):
        await raw.poll()


async def test_a_socket_catching_up_with_too_many_live_events_held_is_closed_as_a_slow_consumer(server):
    """Its welcome waits for room (it reads nothing): what arrives live meanwhile is held, up to a bound."""
    # ~330 kB: past the window the welcome queues ahead of a reader
    alice, bob_token = await offline_member(server, 300)
    raw = RawPolling(server.http)
    await raw.connect({"token": bob_token})  # then reads nothing: its welcome waits for room

    for i in range(MAX_HELD + 1):
        await alice.ok("message:send", {"topic": "big", "body": f"live {i}"})

    assert await closed_as_slow(server)
    with pytest.raises(Closed):
        await raw.until(lambda _got: False)  # what was queued, then the end


# A WebSocket that stops reading, flooded: cut at the bound, not at eight times it --------

WS_FLOOD = 2000  # messages of ~4 kB: ~8 MB for the member who stopped reading
KB4_BODY = "y" * 3990  # with its number, under the 4000-character limit
BOUND = 1024 * 1024  # the default bound (PARLEY_OUTGOING_QUEUE_BYTES)


@pytest.fixture
async def default_bound(tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = settings_for(tmp_path / "data", socket_burst=10_000, socket_rate=10_000.0)
    assert settings.outgoing_queue_bytes == BOUND
    async with running(settings) as live:
        yield live


async def test_a_websocket_that_stops_reading_is_cut_once_it_holds_the_bound(default_bound):
    """Its transport does not drain: cut as soon as its queue and its transport's buffer pass ~1 MiB,
    not at 8 MiB or after 5 s (issue 36 item 4); the TCP connection ends and its socket leaves."""
    server = default_bound
    alice = await server.user("alice")
    bob_token = await server.register("bob")
    await alice.ok("topic:create", {"name": "flood"})
    stalled = await stalled_subscriber(server, bob_token, "flood")

    with captured("parley.sio") as logged:
        for start in range(0, WS_FLOOD, 100):
            await asyncio.gather(
                *(
                    alice.ok("message:send", {"topic": "flood", "body": f"{i} {KB4_BODY}"})
                    for i in range(start, start + 100)
                )
            )
        assert await closed_as_slow(server)
    cuts = [r for r in logged.records if r.getMessage() == "closing a client that stopped reading"]

    assert len(cuts) == 1
    held = cuts[0].__dict__["queued_bytes"]  # its queue and its transport's buffer
    assert BOUND < held < BOUND + 256 * 1024, held  # the bound, one flush of frames and a packet past it
    assert await closed_by_server(stalled)
    assert alice.connected
    metrics = (await server.http.get("/metrics")).text
    assert 'parley_connected_sockets{namespace="/"} 1.0' in metrics  # alice's: bob's socket left
