"""Link previews on two nodes (PROTOCOL.md section 13): with both nodes' workers draining one queue,
a URL carried by many messages sent through both nodes is fetched once (the cache's claim), and
``message:previews`` reaches the members' sockets on either node (the hub)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.models import LinkPreview
from tests.preview_site import Site, serving, waiting
from tests.scaleout.conftest import two_nodes
from tests.support import Client, LiveServer, count

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
MESSAGES = 40


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with serving() as found:
        yield found


@pytest.fixture
async def preview_nodes(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    settings = {"default_topics": [], "previews": True, "preview_allow_hosts": ["127.0.0.1"]}
    async with two_nodes(tmp_path, **settings) as both:
        yield both


async def previews_for(client: Client, wanted: set[int]) -> dict[int, list[dict[str, object]]]:
    seen: dict[int, list[dict[str, object]]] = {}
    async with asyncio.timeout(30):
        while set(seen) != wanted:
            event = await client.next("message:previews")
            seen[event["id"]] = event["previews"]
    return seen


async def test_a_url_sent_through_both_nodes_is_fetched_once_and_both_nodes_hear(preview_nodes, site):
    node_a, node_b = preview_nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    url = site.at("/og-cluster")

    sent = await asyncio.gather(
        *(
            (alice if i % 2 else bob).ok("message:send", {"topic": "general", "body": f"#{i} {url}"})
            for i in range(MESSAGES)
        )
    )

    wanted = {message["id"] for message in sent}
    on_a, on_b = await asyncio.gather(previews_for(alice, wanted), previews_for(bob, wanted))
    assert on_a == on_b
    assert {preview[0]["title"] for preview in on_a.values()} == {"Release notes /og-cluster"}  # type: ignore[index]
    assert site.hits["/og-cluster"] == 1 and site.hits["/card.png"] == 1
    assert await count(node_a, LinkPreview) == 1 and await waiting(node_a) == 0
    worker_a, worker_b = node_a.chat.preview_worker, node_b.chat.preview_worker
    assert worker_a is not None and worker_b is not None
    assert worker_a.fetches + worker_b.fetches == 1
