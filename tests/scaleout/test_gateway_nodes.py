"""Gateway sockets on one node and Socket.IO sockets on another talk as if on one (PROTOCOL.md 7).

Gateway connections are sinks of the same hub as Socket.IO, so with Redis the
hub brings every node's events to them: messages in ``seq`` order, invitations,
the rooms' join signals, and logout closing them wherever they are.
"""

from __future__ import annotations

import pytest

from tests.edge.gateway.wsclient import opened
from tests.support import bearer, send

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_wscat_user_on_one_node_and_a_socketio_user_on_the_other_talk(nodes):
    node_a, node_b = nodes
    token = await node_a.register("alice")
    bob = await node_b.user("bob")
    await bob.ok("topic:create", {"name": "news"})
    async with opened(node_a, f"/compat/topics/{token}") as alice:
        assert (await alice.recv())["action"] == "connected"
        await alice.send({"action": "suscribe", "topic_name": "news"})
        assert (await alice.until({"action": "suscribe"}))["ok"] is True

        sent = [await send(bob, {"topic": "news", "body": f"from b {n}"}) for n in range(20)]
        pushed = [await alice.until({"action": "message", "topic_name": "news"}) for _ in range(20)]
        assert [p["id"] for p in pushed] == [m["id"] for m in sent]  # in seq order, across nodes

        await alice.send({"action": "message", "topic_name": "news", "content": "from a"})
        while "ok" not in (answer := await alice.recv()):  # pushes that come first are skipped
            pass
        assert answer["ok"] is True, answer  # stored: from here on the hub owes bob this message
        event = await bob.next("message")
        while event["sender"] == "bob":  # his own messages come back to him first
            event = await bob.next("message")
        assert (event["sender"], event["body"]) == ("alice", "from a")

        await bob.ok("topic:create", {"name": "club", "private": True})
        await bob.ok("topic:invite", {"topic": "club", "username": "alice"})
        assert (await alice.until({"action": "invited"}))["topic_name"] == "club"
        await send(bob, {"topic": "club", "body": "members only"})  # the invite moved alice's socket
        assert (await alice.until({"action": "message", "topic_name": "club"}))["content"] == "members only"


async def test_rooms_users_on_two_nodes_see_each_other_join_and_talk(nodes):
    node_a, node_b = nodes
    tokens = {name: await node_a.register(name) for name in ("alice", "bob")}
    await node_a.http.post("/api/topics", json={"name": "hall"}, headers=bearer(tokens["alice"]))
    async with opened(node_a, "/compat/rooms") as alice, opened(node_b, "/compat/rooms") as bob:
        for socket, name in ((alice, "alice"), (bob, "bob")):
            await socket.send({"username": name})
            assert (await socket.recv())["type"] == "connected"
        await alice.send(
            {"token": tokens["alice"], "action": "connect_to_room", "args": {"roomName": "hall"}}
        )
        await alice.until({"type": "connect_to_room"})
        await bob.send({"token": tokens["bob"], "action": "connect_to_room", "args": {"roomName": "hall"}})
        joined = await bob.until({"type": "connect_to_room"})
        assert sorted(joined["data"]["usernames"]) == ["alice", "bob"]  # presence across nodes
        assert (await alice.until({"type": "user_joined"}))["data"] == {"roomName": "hall", "username": "bob"}

        await bob.send(
            {"token": tokens["bob"], "action": "send_message", "args": {"roomName": "hall", "message": "hi"}}
        )
        assert (await alice.until({"type": "message"}))["data"]["message"] == "hi"


async def test_logout_on_one_node_closes_the_users_gateway_sockets_on_the_other(nodes):
    node_a, node_b = nodes
    token = await node_a.register("alice")
    async with opened(node_b, f"/compat/topics/{token}") as alice:
        assert (await alice.recv())["action"] == "connected"
        response = await node_a.http.post("/api/auth/logout", headers=bearer(token))
        assert response.status_code == 204
        assert await alice.closed() == (4401, "token_revoked")
