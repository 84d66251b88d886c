"""Two server processes' worth of apps sharing Redis and PostgreSQL.

Each node is a full app on its own port with python-socketio's Redis
manager; a message stored through one node reaches sockets on the other.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from tests.databases import fresh_postgres_database, postgres_url
from tests.support import LiveServer, running
from tests.support import test_settings as settings_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def redis_url() -> str:
    url = os.environ.get("PARLEY_TEST_REDIS_URL")
    if not url:
        pytest.skip("PARLEY_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    return url


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    redis, database = redis_url(), postgres_url()
    channel = f"parley-test-{uuid.uuid4().hex[:8]}"  # isolates this test's pub/sub traffic
    async with fresh_postgres_database(database) as url, AsyncExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            settings = settings_for(
                tmp_path / name, database_url=url, redis_url=redis, redis_channel=channel, default_topics=[]
            )
            servers.append(await stack.enter_async_context(running(settings)))
        yield servers[0], servers[1]


async def test_a_message_sent_on_one_node_reaches_a_subscriber_on_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})

    sent = await alice.ok("message:send", {"topic": "general", "body": "across nodes"})

    assert (await bob.next("message"))["id"] == sent["id"]
    assert (await alice.next("message"))["id"] == sent["id"]


async def test_a_direct_message_crosses_nodes_and_is_shown_from_each_side(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    bob = await node_b.user("bob")

    sent = await alice.ok("message:send", {"to": "bob", "body": "psst"})

    got = await bob.next("message")
    assert (sent["topic"], got["topic"], got["id"]) == ("@bob", "@alice", sent["id"])


async def test_what_a_user_missed_is_replayed_by_whichever_node_they_return_to(nodes):
    node_a, node_b = nodes
    alice = await node_a.user("alice")
    token = await node_a.register("bob")
    bob = await node_a.connect("bob", token)
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await bob.close()
    sent = await alice.ok("message:send", {"topic": "general", "body": "while you were away"})

    bob_again = await node_b.connect("bob", token)

    assert (await bob_again.next("message"))["id"] == sent["id"]


async def test_a_member_who_joined_through_one_node_may_post_through_the_other(nodes):
    node_a, node_b = nodes
    alice = await node_b.user("alice")
    await alice.ok("topic:create", {"name": "general"})
    await alice.ok("message:send", {"topic": "general", "body": "node b knows the members now"})
    token = await node_a.register("bob")
    bob_on_a = await node_a.connect("bob", token)
    await bob_on_a.ok("topic:subscribe", {"topic": "general"})

    bob_on_b = await node_b.connect("bob", token)
    sent = await bob_on_b.ok("message:send", {"topic": "general", "body": "hello from b"})

    assert sent["seq"] == 2
