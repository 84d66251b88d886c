"""Outgoing webhooks on two nodes (PROTOCOL.md section 12): a registration made through one node
reaches the other's send path through the hub (``WebhooksChanged``), and with both nodes' workers
draining one outbox each delivery is POSTed exactly once (PostgreSQL row locks and leases)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from tests.receiver import Receiver, receiving
from tests.scaleout.conftest import two_nodes
from tests.support import Client, LiveServer, bearer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
MESSAGES = 120
BURST_WITHIN = 30.0  # seconds for each ack of the burst: the last of 120 waits its turn under load


async def burst_send(client: Client, body: str) -> dict[str, Any]:
    """One send of the burst, acked (its bound is the burst's, not a lone send's ``WAIT``)."""
    ack = await client.sio.call("message:send", {"topic": "general", "body": body}, timeout=BURST_WITHIN)
    assert ack["ok"] is True, ack
    return cast(dict[str, Any], ack["data"])


@pytest.fixture
async def hooked_nodes(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    settings = {"default_topics": [], "webhook_allow_hosts": ["127.0.0.1"], "webhook_retry_base": 0.05}
    async with two_nodes(tmp_path, **settings) as both:
        yield both


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as found:
        yield found


@pytest.mark.timeout(3 * BURST_WITHIN)  # the burst's acks, then the drain, each bound by BURST_WITHIN
async def test_each_delivery_is_posted_once_while_both_nodes_drain_the_outbox(hooked_nodes, receiver):
    node_a, node_b = hooked_nodes
    alice = await node_a.user("alice")
    bob_token = await node_b.register("bob")
    bob = await node_b.connect("bob", bob_token)
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await alice.ok("topic:role", {"topic": "general", "username": "bob", "role": "admin"})
    body = {"url": receiver.url, "events": ["message"], "secret": "two-nodes"}
    response = await node_b.http.post("/api/topics/general/webhooks", json=body, headers=bearer(bob_token))
    assert response.status_code == 201, response.text  # registered through node b
    topic_id = (await node_a.chat.directory.named_topic("general")).topic_id
    async with asyncio.timeout(10):  # node a learns of it from the hub
        while not node_a.chat.webhook_map.of(topic_id):
            await asyncio.sleep(0.01)

    sent = await asyncio.gather(*(burst_send(alice if i % 2 else bob, f"m{i}") for i in range(MESSAGES)))
    wanted = {message["id"] for message in sent}
    seen: set[int] = set()
    async with asyncio.timeout(BURST_WITHIN):  # the whole drain; one POST may wait past WAIT for it
        while seen != wanted:
            seen.add((await receiver.next(timeout=BURST_WITHIN)).data["message"]["id"])

    deliveries = Counter(r.headers["X-Parley-Delivery"] for r in receiver.received)
    assert len(deliveries) == MESSAGES and set(deliveries.values()) == {1}
