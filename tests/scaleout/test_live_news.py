"""What reaches users on every node at once: a new public topic, who joined or left a topic, and
a revocation."""

from __future__ import annotations

import asyncio

import pytest

from server.chat.kernel.events import SessionsRevoked
from tests.edge.sio.test_connect import assert_refused
from tests.edge.sio.test_revocation_race import attempt, logout
from tests.holds import held_membership_reads
from tests.support import WAIT

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


class Recorder:
    """A hub sink that notes the first revocation it is handed."""

    def __init__(self, revoked: asyncio.Event) -> None:
        self.revoked = revoked

    async def deliver(self, event: object) -> None:
        if isinstance(event, SessionsRevoked):
            self.revoked.set()


async def test_a_new_public_topic_reaches_users_on_the_other_node(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("topic:create", {"name": "hidden", "private": True})
    created = await alice.ok("topic:create", {"name": "news"})
    seen = await bob.next("topic:created")  # the first: the private topic sent nothing
    assert seen["by"] == "alice"
    assert seen["topic"] == {**created, "subscribed": False, "unread": 0}


async def test_a_join_and_a_kick_on_one_node_reach_the_members_on_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("topic:create", {"name": "news"})

    await bob.ok("topic:subscribe", {"topic": "news"})  # through node b
    joined = await alice.next("topic:member")
    while (joined["topic"], joined["username"]) != ("news", "bob"):  # the lobby's and alice's own first
        joined = await alice.next("topic:member")
    await alice.ok("topic:kick", {"topic": "news", "username": "bob"})  # through node a
    left = await alice.next("topic:member")

    assert joined == {"topic": "news", "username": "bob", "action": "joined", "role": "member"}
    assert left == {"topic": "news", "username": "bob", "action": "left", "role": "member"}


async def test_a_logout_on_one_node_during_a_set_up_on_the_other_shuts_that_socket_out(nodes):
    node_a, node_b = nodes
    token = await node_a.register("alice")
    await node_a.chat.users.authenticate(token)  # node a's logout reads nothing that is held
    revoked = asyncio.Event()
    node_b.chat.hub.attach(Recorder(revoked))  # after node b's own sinks: they have it first
    async with held_membership_reads(node_b) as held:
        connecting = asyncio.ensure_future(attempt(node_b.url, token))
        await held.wait()  # node b: authenticated, set-up under way, not registered yet
        await logout(node_a, token)
        await asyncio.wait_for(revoked.wait(), WAIT)  # through Redis to node b
        await held.release()
        tried = await asyncio.wait_for(connecting, WAIT)
    assert_refused(tried, "token_revoked")
    assert not tried.sio.connected
