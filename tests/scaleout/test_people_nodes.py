"""People on two nodes (PROTOCOL.md section 14): a profile change made through one node reaches a
partner on the other (``user:updated``), availability chosen or from activity crosses too
(``presence``), and a user active on one node is not made away by the other node's quiet socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.scaleout.conftest import two_nodes
from tests.support import Client, LiveServer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
AWAY_AFTER = 0.8


# A user is away after a quiet spell of ``away_after``; the test of a busy user keeps a pace of a
# quarter of it. Its delay is longer: on a loaded machine a round trip of more than 0.6 s made the
# user really quiet for 0.8 s (away, rightly), and the test then failed.
BUSY_AWAY_AFTER = 2.5


@pytest.fixture
async def people_nodes(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    async with two_nodes(tmp_path, default_topics=[], away_after=AWAY_AFTER) as both:
        yield both


@pytest.fixture
async def busy_nodes(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    async with two_nodes(tmp_path, default_topics=[], away_after=BUSY_AWAY_AFTER) as both:
        yield both


async def presence(client: Client, username: str, availability: str) -> dict[str, Any]:
    while True:
        event = await client.next("presence")
        if event["username"] == username and event["availability"] == availability:
            return event


async def test_profile_and_availability_cross_nodes(people_nodes):
    node_a, node_b = people_nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("message:send", {"to": "bob", "body": "hi"})

    mine = await alice.ok("profile:update", {"display_name": "Alice L."})
    assert await bob.next("user:updated") == mine
    await alice.ok("availability:set", {"availability": "dnd"})
    await presence(bob, "alice", "dnd")
    await alice.ok("availability:set", {"availability": "auto"})
    await presence(bob, "alice", "online")
    async with asyncio.timeout(10):  # silent: away, told on the other node
        await presence(bob, "alice", "away")
    await alice.ok("presence:active", {})
    async with asyncio.timeout(10):
        await presence(bob, "alice", "online")


async def test_a_user_active_on_one_node_is_not_made_away_by_a_quiet_socket_on_the_other(busy_nodes):
    node_a, node_b = busy_nodes
    token = await node_a.register("alice")
    quiet = await node_a.connect("alice", token)  # never sends anything
    busy = await node_b.connect("alice", token)
    bob = await node_b.user("bob")
    await busy.ok("message:send", {"to": "bob", "body": "hi"})

    loop = asyncio.get_running_loop()
    # Past the delay by three sweeps (a quarter of it each): node a found its socket quiet and
    # asked the database, more than once.
    until = loop.time() + 1.75 * BUSY_AWAY_AFTER
    while loop.time() < until:
        await busy.ok("presence:active", {})
        await asyncio.sleep(BUSY_AWAY_AFTER / 10)  # the user's own pace, not synchronisation
    profile = await bob.ok("users:get", {"usernames": ["alice"]})

    assert profile["users"][0]["availability"] == "online"
    assert [e for e in bob.pending("presence") if e.get("availability") == "away"] == []
    del quiet
