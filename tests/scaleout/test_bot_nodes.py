"""Bots across nodes (PROTOCOL.md section 12): a token revoked through one node closes the socket
that uses it on the other (``TokenRevoked`` through the Redis hub); its other tokens' sockets stay."""

from __future__ import annotations

import asyncio

import pytest

from tests.bots_support import Api, bot_with_token, ok
from tests.support import WAIT, send

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_token_revoked_on_one_node_closes_its_socket_on_the_other(nodes):
    node_a, node_b = nodes
    alice = Api(node_a, await node_a.register("alice"))
    token_id, token = await bot_with_token(alice, "helper")
    other = ok(await alice.post("/api/bots/helper/tokens", {"label": "other"}), 201)["token"]
    owner = await node_a.connect("alice", alice.token)
    await owner.ok("topic:create", {"name": "general"})
    doomed = await node_b.connect("helper", token)
    kept = await node_b.connect("helper", other)
    await doomed.ok("topic:subscribe", {"topic": "general"})
    sent = await send(doomed, {"topic": "general", "body": "from node b"})
    assert (await owner.next("message")) == sent and sent["bot"] is True

    assert ok(await alice.delete(f"/api/bots/helper/tokens/{token_id}")) == {}

    await asyncio.wait_for(doomed.sio.wait(), WAIT)
    assert not doomed.connected
    assert "topics" in await kept.ok("topic:list")
    me = await Api(node_b, token).get("/api/users/me")
    assert me.status_code == 401
