"""Connection-state recovery is not tied to a node: a pid given by one node is recovered by another."""

from __future__ import annotations

import pytest

from tests.edge.sio.recovery_socket import RecoverySocket
from tests.support import bearer, send

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_session_dropped_on_one_node_is_recovered_on_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    token = await node_a.register("bob")
    await alice.ok("topic:create", {"name": "general"})
    joined = await node_a.http.post("/api/topics/general/subscribe", headers=bearer(token))
    assert joined.status_code == 200, joined.text
    bob = await RecoverySocket.connect(node_a.url, {"token": token, "recover": True})
    await bob.next("session")
    seen = await send(alice, {"topic": "general", "body": "seen"})
    [[_, offset]] = await bob.messages(1)
    assert offset == str(seen["id"])
    await bob.close()
    missed = [await send(alice, {"topic": "general", "body": f"missed {n}"}) for n in range(3)]

    back = await RecoverySocket.connect(node_b.url, {"token": token, "pid": bob.pid, "offset": offset})
    await back.next("session")
    assert back.pid == bob.pid
    replayed = [args[0] for args in await back.messages(4)]  # within the margin: "seen" again
    assert [m["id"] for m in replayed] == [seen["id"]] + [m["id"] for m in missed]
    live = await send(alice, {"topic": "general", "body": "live, through the hub"})
    assert await back.messages(1) == [[live, str(live["id"])]]
