"""Everything one node does that a user's sockets on another node must follow (DESIGN.md Scale-out).

alice's and bob's sockets sit on different nodes sharing Redis and PostgreSQL;
the hub carries membership changes, revocations and messages between them.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support import PASSWORD, WAIT, Client, LiveServer, bearer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def on(node: LiveServer, name: str, token: str) -> Client:
    return await node.connect(name, token)


async def test_an_invite_on_one_node_puts_the_invitees_socket_on_the_other_in_the_room(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("topic:create", {"name": "secret", "private": True})

    await alice.ok("topic:invite", {"topic": "secret", "username": "bob"})
    invited = await bob.next("topic:invited")
    sent = await alice.ok("message:send", {"topic": "secret", "body": "welcome, bob"})

    assert invited["topic"]["name"] == "secret"
    assert (await bob.next("message"))["id"] == sent["id"]  # no reconnect needed


async def test_subscribing_through_one_node_and_leaving_through_it_move_the_socket_on_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    token = await node_a.register("bob")
    bob_on_b = await on(node_b, "bob", token)
    await alice.ok("topic:create", {"name": "general"})

    joined = await node_a.http.post("/api/topics/general/subscribe", headers=bearer(token))
    first = await alice.ok("message:send", {"topic": "general", "body": "you are in"})
    assert joined.status_code == 200, joined.text
    assert (await bob_on_b.next("message"))["id"] == first["id"]

    left = await node_a.http.post("/api/topics/general/unsubscribe", headers=bearer(token))
    await alice.ok("message:send", {"topic": "general", "body": "you are out"})
    marker = await alice.ok("message:send", {"to": "bob", "body": "marker"})
    assert left.status_code == 200, left.text
    assert (await bob_on_b.next("message"))["id"] == marker["id"]  # "you are out" never came


async def test_a_logout_on_one_node_closes_the_users_sockets_on_the_other_within_a_second(nodes):
    node_a, node_b = nodes
    token = await node_a.register("alice")
    on_b = await on(node_b, "alice", token)
    closed = asyncio.Event()
    on_b.sio.on("disconnect", lambda *_args: closed.set())

    response = await node_a.http.post("/api/auth/logout", headers=bearer(token))

    assert response.status_code == 204
    await asyncio.wait_for(closed.wait(), 1.0)
    refused = await node_b.http.get("/api/users/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"


async def test_typing_and_its_expiry_cross_nodes(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("message:send", {"to": "bob", "body": "hi"})
    await bob.next("message")

    await alice.ok("typing", {"to": "bob", "typing": True})

    assert await bob.next("typing") == {"topic": "@alice", "username": "alice", "typing": True}
    # alice never says she stopped: her node expires it (typing_ttl) and bob's node hears it.
    assert await bob.next("typing") == {"topic": "@alice", "username": "alice", "typing": False}


async def test_senders_on_both_nodes_at_once_reach_every_socket_gapless_and_in_seq_order(nodes):
    node_a, node_b = nodes
    alice, carol = await node_a.user("alice"), await node_b.user("carol")
    bob, dave = await node_a.user("bob"), await node_b.user("dave")
    await alice.ok("topic:create", {"name": "general"})
    for member in (carol, bob, dave):
        await member.ok("topic:subscribe", {"topic": "general"})
    per_sender = 40

    async def burst(client: Client) -> None:
        await asyncio.gather(
            *(
                client.ok("message:send", {"topic": "general", "body": f"{client.username} {n}"})
                for n in range(per_sender)
            )
        )

    await asyncio.gather(burst(alice), burst(carol))

    for reader in (bob, dave, alice, carol):
        seqs = [(await reader.next("message", WAIT))["seq"] for _ in range(2 * per_sender)]
        assert seqs == list(range(1, 2 * per_sender + 1)), reader.username


async def test_presence_crosses_nodes_on_and_off_after_the_grace(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("message:send", {"to": "bob", "body": "hi"})  # now they share a conversation
    await bob.next("message")
    await alice.close()

    offline = await bob.next("presence")
    alice_token = (
        await node_b.http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    ).json()["token"]
    await node_b.connect("alice", alice_token)  # back, through the other node
    online = await bob.next("presence")

    assert (offline["username"], offline["online"]) == ("alice", False) and offline["last_seen"]
    assert (online["username"], online["online"]) == ("alice", True)
    members = await bob.ok("topic:list", {})
    assert [t["online"] for t in members["topics"] if t["name"] == "@alice"] == [2]


async def test_a_read_mark_on_one_node_reaches_the_reader_s_other_tab_and_the_sender_on_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    token = await node_a.register("bob")
    bob_a, bob_b = await node_a.connect("bob", token), await node_b.connect("bob", token)
    sent = await alice.ok("message:send", {"to": "bob", "body": "read me"})
    await bob_b.next("message")

    await bob_b.ok("read", {"with": "alice", "seq": sent["seq"]})

    expected = {"username": "bob", "seq": sent["seq"]}
    assert {k: v for k, v in (await alice.next("read")).items() if k != "topic"} == expected
    assert {k: v for k, v in (await bob_a.next("read")).items() if k != "topic"} == expected
