"""Blocking across nodes (PROTOCOL.md section 10): a block made through one node holds on the other
at once, because every node's block cache follows ``BlockChanged`` from the hub."""

from __future__ import annotations

import pytest

from tests.contract import error_code
from tests.support import send

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_block_made_on_one_node_holds_for_sends_through_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await send(bob, {"to": "alice", "body": "hi"})  # node b now holds bob's blockers: nobody
    first = await send(bob, {"topic": "general", "body": "before"})
    assert (await alice.next("message"))["id"] != first["id"]  # the DM came first
    assert (await alice.next("message")) == first

    await alice.ok("user:block", {"username": "bob"})
    marker = await send(alice, {"topic": "general", "body": "marker"})  # after the block on the hub
    assert (await bob.next("message"))["body"] == "hi"
    assert (await bob.next("message"))["id"] == first["id"]
    assert (await bob.next("message"))["id"] == marker["id"]

    hidden = await send(bob, {"topic": "general", "body": "after"})
    assert (await alice.next("message"))["id"] == marker["id"]
    assert (await alice.next("message")) == {**hidden, "blocked": True}
    refused = await bob.call("message:send", {"to": "alice", "body": "hello?"})
    assert error_code(refused) == "forbidden" and refused["error"]["message"] == "cannot message this user"

    await alice.ok("user:unblock", {"username": "bob"})
    marker = await send(alice, {"topic": "general", "body": "marker 2"})
    assert (await bob.next("message"))["id"] == hidden["id"]
    assert (await bob.next("message"))["id"] == marker["id"]
    again = await send(bob, {"topic": "general", "body": "friends"})
    assert (await alice.next("message"))["id"] == marker["id"]
    assert (await alice.next("message")) == again
