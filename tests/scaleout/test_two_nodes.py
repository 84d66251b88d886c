"""Two server processes' worth of apps sharing Redis and PostgreSQL (``conftest.nodes``).

A message, a backlog or a membership stored through one node serves sockets on the other.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_message_sent_on_one_node_reaches_a_subscriber_on_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})

    sent = await alice.ok("message:send", {"topic": "general", "body": "across nodes"})

    assert (await bob.next("message"))["id"] == sent["id"]
    assert (await alice.next("message"))["id"] == sent["id"]


async def test_a_direct_message_crosses_nodes_and_is_shown_from_each_side(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")

    sent = await alice.ok("message:send", {"to": "bob", "body": "psst"})

    got = await bob.next("message")
    assert (sent["topic"], got["topic"], got["id"]) == ("@bob", "@alice", sent["id"])


async def test_what_a_user_missed_is_replayed_by_whichever_node_they_return_to(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    token = await node_a.register("bob")
    bob = await node_a.connect("bob", token)
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await bob.close()
    sent = await alice.ok("message:send", {"topic": "general", "body": "while you were away"})

    bob_again = await node_b.connect("bob", token)

    assert (await bob_again.next("message"))["id"] == sent["id"]


async def test_a_member_who_joined_through_one_node_may_post_through_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_b.user("alice")
    await alice.ok("topic:create", {"name": "general"})
    await alice.ok("message:send", {"topic": "general", "body": "node b knows the members now"})
    token = await node_a.register("bob")
    bob_on_a = await node_a.connect("bob", token)
    await bob_on_a.ok("topic:subscribe", {"topic": "general"})

    bob_on_b = await node_b.connect("bob", token)
    sent = await bob_on_b.ok("message:send", {"topic": "general", "body": "hello from b"})

    assert sent["seq"] == 2


async def test_a_delivered_ack_on_one_node_counts_for_messages_stored_by_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    token = await node_a.register("bob")
    await alice.ok("topic:create", {"name": "general"})
    bob = await node_b.connect("bob", token)
    await bob.ok("topic:subscribe", {"topic": "general"})
    seqs = []
    for n in range(6):  # stored through node a; node b stores nothing of this topic
        await alice.ok("message:send", {"topic": "general", "body": f"m{n}"})
        seqs.append((await bob.next("message"))["seq"])
        await bob.ok("delivered", {"topic": "general", "seq": seqs[-1]})  # as clients ack, one by one

    await node_b.chat.delivery.flush()
    await bob.close()
    marker = await alice.ok("message:send", {"topic": "general", "body": "after the ack"})
    bob_again = await node_a.connect("bob", token)

    assert seqs == [1, 2, 3, 4, 5, 6]
    assert (await bob_again.next("message"))["id"] == marker["id"]  # nothing acked is replayed


async def test_stats_on_either_node_show_both_servers_with_their_own_sockets(nodes):
    node_a, node_b = nodes
    alice_token = await node_a.register("alice")
    await node_a.connect("alice", alice_token)
    await node_a.connect("alice", alice_token)
    await node_b.user("bob")
    for node in nodes:
        await node.chat.nodes.beat()  # what its heartbeat does every PARLEY_PRESENCE_TTL / 3 seconds

    stats = await node_b.chat.topic_admin.stats()

    seen = {row.node: (row.sockets, row.users) for row in stats.nodes}
    assert seen == {node_a.chat.nodes.name: (2, 1), node_b.chat.nodes.name: (1, 1)}
