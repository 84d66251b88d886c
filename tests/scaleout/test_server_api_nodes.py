"""The server API across two nodes (PROTOCOL.md section 17): what a backend does through node A
reaches the sockets on node B (a published message in seq order, a server-side add with its
invite and the topic's messages, a disconnect), and a key revoked through node A is refused by
node B, which had it in its cache, as soon as the hub brings the news."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import WAIT, bearer, polled

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
HUB = 2.0  # seconds the hub may take to bring a revocation (milliseconds in practice)


async def test_a_backend_on_one_node_reaches_the_other_and_its_revoked_key_is_refused_there(nodes):
    node_a, node_b = nodes
    olive = await node_a.register("olive")  # the first account: the workspace's owner
    owner = await node_a.connect("olive", olive)
    await owner.ok("topic:create", {"name": "deals", "private": True})
    alice = await node_b.connect("alice", await node_b.register("alice"))
    made = await node_a.http.post("/api/admin/keys", headers=bearer(olive), json={"label": "shop"})
    assert made.status_code == 201, made.text
    key = bearer(made.json()["key"])

    async def on_b(path: str, body: dict[str, object]) -> tuple[int, str]:
        answer = await node_b.http.post(path, headers=key, json=body)
        return answer.status_code, answer.json().get("error", {}).get("code", "")

    added = await node_b.http.put("/api/server/topics/deals/members/alice", headers=key)
    assert added.status_code == 200, added.text  # node b has the key in its cache now
    assert (await alice.next("topic:invited"))["topic"]["name"] == "deals"
    seqs = []
    for n in range(3):
        sent = await node_a.http.post(
            "/api/server/messages", headers=key, json={"topic": "deals", "body": f"m{n}"}
        )
        assert sent.status_code == 201, sent.text
        seqs.append(sent.json()["seq"])
    got = [await alice.next("message") for _ in range(3)]
    assert [(m["body"], m["seq"]) for m in got] == [(f"m{n}", seqs[n]) for n in range(3)]

    cut = await node_a.http.post("/api/server/users/alice/disconnect", headers=key, json={})
    assert cut.status_code == 200, cut.text
    await asyncio.wait_for(alice.sio.wait(), WAIT)  # closed on node b by a call to node a

    revoked = await node_a.http.delete(f"/api/admin/keys/{made.json()['id']}", headers=bearer(olive))
    assert revoked.status_code == 200, revoked.text

    async def refused() -> bool:  # asks for a token of nobody: changes nothing either way
        return await on_b("/api/server/users/nobody/tokens", {}) == (401, "unauthorized")

    await polled(refused, HUB)
    assert await on_b("/api/server/messages", {"topic": "deals", "body": "late"}) == (401, "unauthorized")
    history = await owner.ok("history", {"topic": "deals"})
    assert "late" not in [m["body"] for m in history["messages"]]
