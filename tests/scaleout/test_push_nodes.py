"""Web Push on two nodes (PROTOCOL.md section 15): both nodes' notifiers take the jobs and both
push workers drain one outbox (PostgreSQL row locks and leases), yet each message reaches each
subscription once; both nodes sign with the one VAPID key the operator shares."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.push_service import PushService, b64url, push_service
from tests.scaleout.conftest import two_nodes
from tests.support import LiveServer, bearer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
MESSAGES = 60
BROWSERS = 3


@pytest.fixture
async def push_nodes(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    key = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big")
    settings = {
        "push_allow_hosts": ["127.0.0.1"],
        "push_delay": 0.2,
        "webhook_retry_base": 0.05,
        "vapid_private_key": b64url(key),
    }
    async with two_nodes(tmp_path, **settings) as both:
        yield both


@pytest.fixture
async def pushes() -> AsyncIterator[PushService]:
    async with push_service() as service:
        yield service


async def test_each_message_is_pushed_once_to_each_subscription_whatever_node_sent_or_decided_it(
    push_nodes, pushes
):
    node_a, node_b = push_nodes
    alice = await node_a.register("alice")
    bob = await node_b.register("bob")
    key_a = (await node_a.http.get("/api/push/key", headers=bearer(bob))).json()["public_key"]
    key_b = (await node_b.http.get("/api/push/key", headers=bearer(bob))).json()["public_key"]
    assert key_a == key_b
    pushes.public_key = key_a
    for n in range(BROWSERS):
        node = (node_a, node_b)[n % 2]
        body = pushes.browser(f"bob{n}").subscription
        response = await node.http.post("/api/push/subscriptions", json=body, headers=bearer(bob))
        assert response.status_code == 201, response.text

    async def send(i: int) -> int:
        node = (node_a, node_b)[i % 2]
        sent = await node.http.post(
            "/api/messages", json={"to": "bob", "body": f"m{i}"}, headers=bearer(alice)
        )
        assert sent.status_code == 201, sent.text
        return int(sent.json()["id"])

    ids = await asyncio.gather(*(send(i) for i in range(MESSAGES)))
    wanted = {(f"/push/bob{n}", message) for n in range(BROWSERS) for message in ids}
    async with asyncio.timeout(60):
        while {(p.path, p.payload["id"]) for p in pushes.accepted} != wanted:
            await pushes.next_accepted()
    control = await send(MESSAGES)
    async with asyncio.timeout(30):
        while sum(p.payload["id"] == control for p in pushes.accepted) < BROWSERS:
            await pushes.next_accepted()

    assert all(p.problem is None for p in pushes.received)
    counts = Counter((p.path, p.payload["id"]) for p in pushes.accepted)
    assert set(counts.values()) == {1}
