"""Order on one connection (PROTOCOL.md section 4): ``session``, the backlog, then live messages.

A member who reconnects while others keep sending must see, on each of its sockets and
for each topic, strictly increasing ``seq`` with no gap from the backlog's first message
on: a live message stored while that socket's backlog is still being sent is held and
follows the backlog (or is covered by it), never overtakes it. Otherwise a client that
acknowledges cumulatively skips messages for good.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.support import Client, LiveServer, send
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases

MISSED = 300  # per topic, while the member is offline
LIVE_AT_LEAST = 60  # per topic, sent while the member's sockets connect
LIVE_AT_MOST = 2000
SOCKETS = 3


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """One sender sends far more than the default burst allows."""
    return settings_for(tmp_path / "data", socket_burst=100_000, socket_rate=100_000.0)


def breaks(received: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Per topic, the first pair of consecutive ``message`` seqs that does not step by one."""
    by_topic: defaultdict[str, list[int]] = defaultdict(list)
    for message in received:
        by_topic[message["topic"]].append(message["seq"])
    found: dict[str, tuple[int, int]] = {}
    for topic, seqs in by_topic.items():
        for before, after in itertools.pairwise(seqs):
            if after != before + 1:
                found[topic] = (before, after)
                break
    return found


async def receive_until(client: Client, last: dict[str, int]) -> list[dict[str, Any]]:
    """Every ``message`` until each topic's ``last`` seq arrived (each wait bounded)."""
    received: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    while any(seen.get(topic, 0) < seq for topic, seq in last.items()):
        message = await client.next("message")
        received.append(message)
        seen[message["topic"]] = max(seen.get(message["topic"], 0), message["seq"])
    return received


async def member_gone_with_a_backlog(live_server: LiveServer) -> tuple[Client, str]:
    """alice and bob share ``general`` and a DM; bob leaves and misses MISSED of each."""
    alice = await live_server.user("alice")
    token = await live_server.register("bob")
    bob = await live_server.connect("bob", token)
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await bob.close()
    for n in range(MISSED):
        await asyncio.gather(
            send(alice, {"topic": "general", "body": f"missed {n}"}),
            send(alice, {"to": "bob", "body": f"missed {n}"}),
        )
    return alice, token


async def test_a_reconnecting_member_sees_each_topic_gapless_while_others_keep_sending(live_server):
    alice, token = await member_gone_with_a_backlog(live_server)
    connected = asyncio.Event()
    last: dict[str, int] = {}

    async def keep_sending(target: dict[str, str], shown_to_bob: str) -> None:
        for n in range(LIVE_AT_MOST):
            if n >= LIVE_AT_LEAST and connected.is_set():
                return
            last[shown_to_bob] = (await send(alice, {**target, "body": f"live {n}"}))["seq"]

    senders = asyncio.gather(
        keep_sending({"topic": "general"}, "general"), keep_sending({"to": "bob"}, "@alice")
    )
    sockets = [await live_server.connect("bob", token) for _ in range(SOCKETS)]
    connected.set()
    await senders

    for socket in sockets:
        received = await receive_until(socket, last)
        assert breaks(received) == {}
        assert {m["topic"]: m["seq"] for m in received if m["seq"] == 1} == {"general": 1, "@alice": 1}
