"""Erasure across two nodes (PROTOCOL.md section 16): asked on node A, the account's sockets on
both nodes close at once, its tokens are refused by both, and a member on node B sees each of its
messages deleted live, then finds them as tombstones sent by ``[deleted]``."""

from __future__ import annotations

import asyncio

import pytest

from tests.edge.rest.test_erasure import closed, history
from tests.erasure_support import erase_me, until_erased, user_id_of
from tests.support import LiveServer, bearer, send

pytestmark = pytest.mark.redis

WAIT = 10.0


async def test_erasure_on_one_node_closes_sockets_on_both_and_tombstones_live(
    nodes: tuple[LiveServer, LiveServer],
) -> None:
    a, b = nodes
    token = await a.register("alice")
    on_a, on_b = await a.connect("alice", token), await b.connect("alice", token)
    bob = await b.user("bob")
    await on_a.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    sent = [await send(on_a, {"topic": "general", "body": f"words {i}"}) for i in range(3)]
    for _ in sent:
        await bob.next("message")

    user_id = await user_id_of(a, "alice")
    response = await erase_me(a, token)
    assert response.status_code == 202, response.text
    await asyncio.gather(closed(on_a), closed(on_b))
    for node in (a, b):
        refused = await node.http.get("/api/users/me", headers=bearer(token))
        assert refused.status_code == 401

    deleted = {(await bob.next("message:deleted", WAIT))["id"] for _ in sent}
    assert deleted == {m["id"] for m in sent}
    await until_erased(a, user_id)
    bob_token = (await b.chat.users.issue_token("bob")).token
    texts = [m for m in await history(b, bob_token) if m["type"] == "text"]
    assert [(m["sender"], m["body"], m["deleted"]) for m in texts] == [("[deleted]", "", True)] * 3
