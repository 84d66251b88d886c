"""The cluster's budgets in Redis, as two nodes see them (real Redis; a Redis of the test's own
where it is restarted)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio

from server.adapters.cluster.redis_budgets import RedisBudgets
from tests.redis_instance import own_redis
from tests.scaleout.conftest import redis_url

pytestmark = [pytest.mark.redis, pytest.mark.asyncio]


@pytest.fixture
async def two_nodes() -> AsyncIterator[tuple[RedisBudgets, RedisBudgets]]:
    channel = f"budgets-{uuid.uuid4().hex[:8]}"
    one, two = RedisBudgets(redis_url(), channel), RedisBudgets(redis_url(), channel)
    await one.start()
    await two.start()
    yield one, two
    await one.stop()
    await two.stop()


async def test_one_bucket_is_shared_by_the_nodes_and_says_how_long_to_wait(two_nodes):
    one, two = two_nodes
    assert await one.take("topics", "7", 2, 2 / 3600) == 0
    assert await two.take("topics", "7", 2, 2 / 3600) == 0
    wait = await one.take("topics", "7", 2, 2 / 3600)
    assert wait is not None and 1700 < wait <= 1800  # a token every half hour
    assert await two.take("topics", "8", 2, 2 / 3600) == 0  # another key, its own bucket
    await two.give_back("topics", "7", 2, 2 / 3600)  # an attempt that did not count
    assert await one.take("topics", "7", 2, 2 / 3600) == 0


async def test_a_bucket_expires_once_it_would_be_full_again(two_nodes):
    one, _two = two_nodes
    await one.take("uploads", "7", 30, 0.5)
    client = redis.asyncio.Redis.from_url(redis_url())
    try:
        ttl = await client.pttl(f"{one._prefix}:uploads:7")
    finally:
        await client.aclose()
    assert 2000 < ttl <= 3000  # one token short refills in 2 s, plus a second


async def test_sockets_are_counted_over_the_live_nodes(two_nodes):
    one, two = two_nodes
    assert await one.socket_opened(7, 2) is True
    assert await two.socket_opened(7, 2) is True
    assert await one.socket_opened(7, 2) is False
    assert await two.socket_opened(7, 2) is False
    await one.socket_closed(7)
    assert await two.socket_opened(7, 2) is True
    assert await one.socket_opened(8, 2) is True  # another user


async def test_sockets_opening_at_once_share_one_script_and_each_is_counted_in_turn(two_nodes):
    """A connect storm: one round trip for the sockets opening together, one user's several too."""
    one, two = two_nodes
    assert await two.socket_opened(7, 3) is True  # one of user 7's on the other node
    scripts = one._openings.reads

    opened = await asyncio.gather(*(one.socket_opened(user, 3) for user in (7, 7, 7, 8)))

    assert opened == [True, True, False, True]  # user 7's third in all, then over the limit
    assert one._openings.reads - scripts == 1
    assert await two.socket_opened(7, 3) is False
    assert await two.socket_opened(8, 3) is True


async def test_the_script_is_loaded_again_after_redis_restarts_empty(tmp_path: Path):
    async with own_redis(tmp_path / "redis") as broker:
        node = RedisBudgets(broker.url, "budgets")
        await node.start()
        try:
            assert await node.take("topics", "7", 1, 1 / 3600) == 0
            broker.kill()
            assert await node.take("topics", "7", 1, 1 / 3600) is None  # cannot tell: local stands
            await broker.start()
            await node._beat()  # the heartbeat that finds Redis back
            assert await node.take("topics", "7", 1, 1 / 3600) == 0  # NOSCRIPT: loaded again
            assert (await node.take("topics", "7", 1, 1 / 3600) or 0) > 0
        finally:
            await node.stop()


async def test_budgets_not_started_leave_the_node_to_its_own_counts():
    """The command line builds the chat without starting it: its limits are the local ones."""
    node = RedisBudgets(redis_url(), f"budgets-{uuid.uuid4().hex[:8]}")
    assert await node.take("sign-ups", "127.0.0.1", 1, 1.0) is None
    assert await node.socket_opened(7, 1) is None
    await node.socket_closed(7)
    await node.give_back("sign-ups", "127.0.0.1", 1, 1.0)


async def test_a_storm_of_checks_waits_for_a_connection_rather_than_falling_back():
    """Five hundred checks at once (a connect storm through one node): each is answered by Redis.
    redis-py's own pool fails past 100 connections (``MaxConnectionsError``), which dropped the
    node to its local limits until the next heartbeat.

    The node's bound on a check is long here (5 s, against 0.25 s in service): what is read is
    whether a check waits for a connection or fails, not how fast a loaded machine answers 500
    (a CI run took longer than 0.25 s for the last of them, and those fell back as designed)."""
    one = RedisBudgets(redis_url(), f"budgets-{uuid.uuid4().hex[:8]}", timeout=5.0)
    await one.start()
    try:
        waits = await asyncio.gather(*(one.take("connects", str(n), 5, 1.0) for n in range(500)))
        assert waits == [0.0] * 500
        assert await one.take("connects", "0", 5, 1.0) == 0  # and the node still asks Redis
    finally:
        await one.stop()


async def test_a_beat_writes_the_nodes_counts_anew_whatever_redis_holds(two_nodes):
    """A beat writes the node's counts from what it has, in one script: what Redis lost (an emptied
    Redis) comes back, a count it holds wrongly is corrected, a user with no socket here goes."""
    one, two = two_nodes
    for _ in range(2):
        assert await one.socket_opened(7, 5) is True
    assert await one.socket_opened(9, 5) is True
    client = redis.asyncio.Redis.from_url(redis_url())
    try:
        await client.delete(one._mine)
        await client.hset(one._mine, mapping={"7": 40, "11": 3})  # wrong, and a stranger
        await one._beat()
        assert await client.hgetall(one._mine) == {b"7": b"2", b"9": b"1"}
        assert 0 < await client.ttl(one._mine) <= int(2 * one.ttl) + 1
        assert await two.socket_opened(7, 3) is True  # the live nodes' sum: 2 here, 1 there
        assert await two.socket_opened(7, 3) is False
        many = {user: 1 + user % 3 for user in range(1, 9_001)}  # past the script's 4,000 per HSET
        one._here = dict(many)
        await one._beat()
        held = await client.hgetall(one._mine)
        assert {int(user): int(count) for user, count in held.items()} == many
        one._here = {}
        await one._beat()
        assert await client.exists(one._mine) == 0
    finally:
        await client.aclose()
