"""Conversations across nodes (PROTOCOL.md section 8): every change reaches every node's sockets,
rendered for each receiver as it sees it."""

from __future__ import annotations

import pytest

from tests.support import send

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_reaction_on_one_node_reaches_the_other_with_me_as_each_receiver_sees_it(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    carol = await node_b.user("carol")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await carol.ok("topic:subscribe", {"topic": "general"})
    message = await send(bob, {"topic": "general", "body": "ship it"})
    await carol.ok("reaction:add", {"id": message["id"], "emoji": "👍"})
    assert (await alice.next("reaction:updated"))["reactions"][0]["me"] is False
    assert (await carol.next("reaction:updated"))["reactions"][0]["me"] is True
    assert (await bob.next("reaction:updated"))["reactions"][0]["me"] is False

    await alice.ok("reaction:add", {"id": message["id"], "emoji": "👍"})

    seen = {
        name: (await client.next("reaction:updated"))["reactions"]
        for name, client in (("bob", bob), ("carol", carol), ("alice", alice))
    }
    assert seen["bob"] == [{"emoji": "👍", "count": 2, "users": ["carol", "alice"], "me": False}]
    assert seen["carol"] == [{"emoji": "👍", "count": 2, "users": ["carol", "alice"], "me": True}]
    assert seen["alice"][0]["me"] is True


async def test_threads_and_pins_made_on_one_node_reach_members_on_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    root = await send(alice, {"topic": "general", "body": "agenda"})
    assert (await bob.next("message"))["id"] == root["id"]

    reply = await send(alice, {"topic": "general", "body": "item 1", "thread": root["id"]})
    await alice.ok("message:pin", {"id": root["id"]})

    assert (await bob.next("message"))["id"] == reply["id"]
    assert (await bob.next("thread:updated"))["thread_summary"]["count"] == 1
    system = await bob.next("message")
    assert system["type"] == "system" and system["seq"] == reply["seq"] + 1
    assert [m["id"] for m in (await bob.next("pins:updated"))["pins"]] == [root["id"]]


async def test_a_kick_and_a_ban_on_one_node_shut_the_target_out_on_the_other_at_once(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    carol = await node_b.user("carol")
    await alice.ok("topic:create", {"name": "general"})
    for client in (bob, carol):
        await client.ok("topic:subscribe", {"topic": "general"})

    await alice.ok("topic:kick", {"topic": "general", "username": "bob", "reason": "spam"})
    assert await bob.next("topic:removed", timeout=1.0) == {"topic": "general", "reason": "spam"}
    marker = await send(alice, {"topic": "general", "body": "after the kick"})
    while (await carol.next("message"))["id"] != marker["id"]:
        pass  # the kick's system message comes first
    await bob.ok("topic:list", {})  # a round trip: whatever was sent to bob before is in
    assert bob.pending("message") == []

    await bob.ok("topic:subscribe", {"topic": "general"})
    await alice.ok("topic:ban", {"topic": "general", "username": "bob"})
    assert (await bob.next("topic:removed", timeout=1.0))["topic"] == "general"
    assert (await bob.call("topic:subscribe", {"topic": "general"}))["error"]["code"] == "forbidden"


async def test_a_mute_on_one_node_silences_the_member_on_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await send(bob, {"topic": "general", "body": "loaded the mutes of general on node b"})

    await alice.ok("topic:mute", {"topic": "general", "username": "bob"})
    # The mute crosses to node b on the hub before its system message does (one channel, in order).
    while (await bob.next("message"))["type"] != "system":
        pass
    muted = await bob.call("message:send", {"topic": "general", "body": "still here?"})

    assert muted["ok"] is False and muted["error"]["code"] == "forbidden"
    await alice.ok("topic:unmute", {"topic": "general", "username": "bob"})
    await send(bob, {"topic": "general", "body": "back"})
