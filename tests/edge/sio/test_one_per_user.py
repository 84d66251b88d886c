"""A reconnect storm of one user does not multiply its backlog: one welcome per user at a time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.edge.sio.backlogs import KB_BODY, offline_member
from tests.edge.sio.polling import Closed, RawPolling
from tests.support import WAIT, LiveServer, running
from tests.support import test_settings as settings_for

BACKLOG = 600
# each message ~1.2 kB queued: the 128 kB window of a 256 kB bound is ~110 messages
WINDOW = 128  # messages at most queued ahead of a client that does not read (half the bound, and a bit)
STORM = 10  # sockets of one user that connect, read next to nothing, and go


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = settings_for(
        tmp_path / "data", outgoing_queue_bytes=256 * 1024, socket_burst=10_000, socket_rate=10_000.0
    )
    async with running(settings) as live:
        yield live


async def metric(live: LiveServer, name: str) -> float:
    for line in (await live.http.get("/metrics")).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name}")


def is_backlog(packet: str) -> bool:
    return packet.startswith('42["message"') and json.loads(packet[2:])[1]["body"].endswith(KB_BODY)


async def test_a_reconnect_storm_queues_the_backlog_about_once_and_the_last_socket_gets_it_all(server):
    _alice, bob_token = await offline_member(server, BACKLOG)

    storm = [RawPolling(server.http) for _ in range(STORM)]
    await storm[0].connect({"token": bob_token})
    await storm[0].until(lambda got: any(is_backlog(p) for p in got))  # its welcome is pushing
    for raw in storm[1:]:
        await raw.connect({"token": bob_token})  # its welcome has begun: its session came
    # Gone, having read next to nothing: the later ones first, while the first still has the turn
    # (without the turn each would have had a window of its own queued by now).
    for raw in [*storm[1:], storm[0]]:
        assert (await raw.post("1")).status_code == 200

    last = await server.connect("bob", bob_token)
    received = [await last.next("message", timeout=6 * WAIT) for _ in range(BACKLOG)]

    assert [m["body"].split()[0] for m in received] == [str(i) for i in range(BACKLOG)]
    # The first storm socket's window (and its GETs); one more for each that gave way to the next
    # after 5 s without a drain (closed as a slow consumer), should connecting the storm take that long.
    turns = 1 + await metric(server, "parley_slow_consumers_closed_total")
    assert await metric(server, "parley_backlog_messages_queued_total") <= BACKLOG + turns * (WINDOW + 64)


async def test_a_new_socket_gets_its_backlog_soon_when_the_users_older_one_stopped_reading_its_own(server):
    """The older welcome, its transport silent, gives way after a few seconds, not a heartbeat (45 s)."""
    _alice, bob_token = await offline_member(server, 300)
    dropped = RawPolling(server.http)
    await dropped.connect({"token": bob_token})
    await dropped.until(lambda got: any(is_backlog(p) for p in got))  # then it reads no more

    back = await server.connect("bob", bob_token)
    received = [await back.next("message", timeout=4 * WAIT) for _ in range(300)]

    assert [m["body"].split()[0] for m in received] == [str(i) for i in range(300)]
    with pytest.raises(Closed):
        await dropped.until(lambda _got: False)  # closed as a client that does not read
