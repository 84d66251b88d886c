"""The presence registry in Redis, as two nodes see it (real Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio

from server.adapters.cluster.redis_presence import CHUNK, MANY, RedisRegistry
from tests.adapters.cluster.swallowing import Swallowing
from tests.redis_instance import own_redis
from tests.scaleout.conftest import redis_url
from tests.support import polled

pytestmark = [pytest.mark.redis, pytest.mark.asyncio]


async def nobody_gone(user_ids: list[int]) -> None:
    raise AssertionError(f"no node died, yet {user_ids} were reported gone")


@pytest.fixture
async def two_nodes() -> AsyncIterator[tuple[RedisRegistry, RedisRegistry]]:
    channel = f"presence-{uuid.uuid4().hex[:8]}"
    one, two = RedisRegistry(redis_url(), channel), RedisRegistry(redis_url(), channel)
    await one.start(nobody_gone)
    await two.start(nobody_gone)
    yield one, two
    await one.stop()
    await two.stop()


async def test_a_user_comes_online_once_and_goes_offline_with_their_last_node(two_nodes):
    one, two = two_nodes

    assert await one.arrive(7) is True  # online: partners are told
    assert await two.arrive(7) is False  # already online on node one
    assert await one.leave(7) is False  # still on node two
    assert await two.online_among([7]) == {7}
    assert await two.leave(7) is True  # offline everywhere
    assert await one.online_among([7]) == set()


async def test_of_two_nodes_a_user_arrives_on_at_once_exactly_one_tells_the_partners(two_nodes):
    one, two = two_nodes

    arrivals = await asyncio.gather(*(node.arrive(user) for user in range(10, 30) for node in (one, two)))
    assert [arrivals[i] + arrivals[i + 1] for i in range(0, len(arrivals), 2)] == [1] * 20

    departures = await asyncio.gather(*(node.leave(user) for user in range(10, 30) for node in (one, two)))
    assert [departures[i] + departures[i + 1] for i in range(0, len(departures), 2)] == [1] * 20
    assert await one.online_among(range(10, 30)) == set()


async def test_arrivals_at_one_moment_share_one_script_and_each_gets_its_own_answer(two_nodes):
    """A connect storm: one round trip to Redis for the users arriving together, not one each."""
    one, two = two_nodes
    await two.arrive(105)  # already online elsewhere
    scripts = one._arrivals.reads

    arrivals = await asyncio.gather(*(one.arrive(user) for user in range(100, 110)))

    assert arrivals == [user != 105 for user in range(100, 110)]
    assert one._arrivals.reads - scripts == 1
    assert await two.online_among(range(100, 110)) == set(range(100, 110))


async def test_online_among_answers_for_every_node_and_only_for_the_ids_asked(two_nodes):
    one, two = two_nodes
    for user in (1, 2, 3):
        await one.arrive(user)
    await two.arrive(40)

    assert await one.online_among([2, 40, 99]) == {2, 40}
    assert await two.online_among(range(1000, 2000)) == set()
    assert await two.online_among([]) == set()


async def test_online_among_many_ids_answers_as_for_a_few(two_nodes):
    """Past ``MANY`` ids one script asks every node's set (a topic of thousands of members)."""
    one, two = two_nodes
    await one.arrive(5)
    await two.arrive(599)
    await two.arrive(5)
    await one.arrive(1000)
    many = list(range(1, 1001))

    assert len(many) > MANY
    assert await one.online_among(many) == {5, 599, 1000}
    assert await two.online_among(many[:-1]) == {5, 599}
    assert await two.online_among(range(2000, 2000 + MANY * 2)) == set()


async def test_many_ids_are_answered_from_the_live_nodes_only_either_way(two_nodes):
    """The script reads the live nodes itself: a node whose heartbeat is older than the TTL is not
    asked, even before it is reaped. It answers from the live nodes' users while they are fewer
    than the ids asked, else asks their sets for the ids, past one ``CHUNK`` in several."""
    one, two = two_nodes
    for user in (1, CHUNK, CHUNK + 1, 2 * CHUNK + 5):
        await one.arrive(user)
    await two.arrive(3)
    many = list(range(1, 2 * CHUNK + 10))
    online = {1, 3, CHUNK, CHUNK + 1, 2 * CHUNK + 5}
    assert await two.online_among(many) == online  # from the union: 5 users
    client = redis.asyncio.Redis.from_url(redis_url())
    try:  # node one's set, as a node with more users than the ids asked writes it
        await client.sadd(one._users_of(one.node), *range(10**6, 10**6 + 3 * CHUNK))
        assert await two.online_among(many) == online  # from the sets, asked in chunks
        await client.zadd(one._nodes, {one.node: 0})  # one's heartbeat is long past
        assert await two.online_among(many) == {3}
    finally:
        await client.aclose()


async def test_a_node_that_left_cleanly_no_longer_counts():
    channel = f"presence-{uuid.uuid4().hex[:8]}"
    one, two = RedisRegistry(redis_url(), channel), RedisRegistry(redis_url(), channel)
    await one.start(nobody_gone)
    await two.start(nobody_gone)
    await one.arrive(5)

    await one.stop()

    assert await two.online_among([5]) == set()
    assert await two.arrive(5) is True
    await two.stop()


async def test_a_node_started_while_the_broker_hangs_starts_and_writes_its_users_once_it_answers(
    tmp_path: Path,
):
    """Presence in Redis is a cache of what the nodes hold: a start while it hangs answers from
    this node, as an outage later would, and the heartbeat writes the node's set once it is back."""
    async with own_redis(tmp_path) as broker:
        registry = RedisRegistry(broker.url, "test", ttl=1.5)
        broker.pause()
        try:
            async with asyncio.timeout(10):
                await registry.start(nobody_gone)  # does not fail
            assert await registry.arrive(7) is True  # as far as this node can tell
            broker.resume()
            client = redis.asyncio.Redis.from_url(broker.url)
            try:
                await polled(lambda: client.sismember(registry._users_of(registry.node), "7"), within=10)
            finally:
                await client.aclose()
        finally:
            broker.resume()
            await registry.stop()


async def test_a_stop_ends_even_when_the_heartbeats_cancellation_was_swallowed(tmp_path: Path):
    """Seen in CI: a registry's stop waited on its heartbeat past the test's 60 s (its one
    cancellation lost inside a call to Redis); the heartbeat went on beating."""
    async with own_redis(tmp_path) as broker:
        client = redis.asyncio.Redis.from_url(broker.url)
        registry = RedisRegistry(broker.url, "test", ttl=1.5)
        try:
            await client.zadd(registry._nodes, {"dead-node": 0})  # a node that stopped beating long ago
            await client.sadd(registry._users_of("dead-node"), "9")
            gone = Swallowing()
            await registry.start(gone)
            async with asyncio.timeout(10):
                await gone.entered.wait()  # the heartbeat is inside on_gone, reaping
            async with asyncio.timeout(10):
                await registry.stop()
            assert gone.swallowed == 1
        finally:
            await client.aclose()


async def test_a_beat_writes_the_nodes_users_anew_whatever_redis_holds(two_nodes):
    """A beat writes the node's set from the users it has, in one script: what Redis lost comes
    back, a user it holds wrongly goes, and the other node answers from the set written."""
    one, two = two_nodes
    assert await one.arrive(7) is True  # online: on no other node
    assert await one.arrive(9) is True
    client = redis.asyncio.Redis.from_url(redis_url())
    try:
        users_of_one = one._users_of(one.node)
        await client.delete(users_of_one)
        await client.sadd(users_of_one, 11)  # a stranger
        assert await two.online_among([7, 9, 11]) == {11}  # what Redis holds now
        await one._beat()
        assert await client.smembers(users_of_one) == {b"7", b"9"}
        assert await two.online_among([7, 9, 11]) == {7, 9}
        one._here = set(range(1, 9_001))  # past the script's 4,000 per SADD
        await one._beat()
        assert await client.scard(users_of_one) == 9_000
        one._here = set()
        await one._beat()
        assert await client.exists(users_of_one) == 0
    finally:
        await client.aclose()
