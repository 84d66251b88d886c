"""Nodes read only their own topics: two real hubs on the shared Redis, one channel name per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import pytest
import redis.asyncio

from server.adapters.cluster.redis_hub import RedisHub
from server.chat.kernel import events as ev
from server.chat.kernel.hub import TopicNews
from server.chat.kernel.schemas import MessageOut
from tests.scaleout.conftest import redis_url

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]
TOPIC = 5


def created(seq: int, topic: int = TOPIC) -> ev.MessageCreated:
    message = MessageOut(
        id=topic * 100_000 + seq,
        topic=f"t{topic}",
        kind="public",
        seq=seq,
        sender="alice",
        body=f"m{seq}",
        created_at="2026-11-28T10:00:00Z",
        edited_at=None,
        client_id=None,
    )
    return ev.MessageCreated(message, ev.ToTopic(topic), topic)


class Seen:
    """A sink: the seqs of each topic's messages, in the order delivered."""

    def __init__(self) -> None:
        self.seqs: dict[int, list[int]] = {}
        self.others: list[ev.Event] = []
        self.arrived = asyncio.Event()

    async def deliver(self, event: ev.Event) -> None:
        if isinstance(event, ev.MessageCreated):
            self.seqs.setdefault(event.topic_id, []).append(event.message.seq)
        else:
            self.others.append(event)
        self.arrived.set()


class Stored:
    """What the sending node stored (its database, as ``Refill`` reads it back), by moment."""

    def __init__(self) -> None:
        self.rows: list[tuple[datetime, ev.MessageCreated]] = []

    async def since(self, moment: datetime) -> list[ev.MessageCreated]:
        return [event for at, event in self.rows if at >= moment]

    async def between(self, topic_id: int, first: int, last: int) -> list[ev.MessageCreated]:
        return [e for _, e in self.rows if e.topic_id == topic_id and first <= e.message.seq <= last]

    async def in_topic_since(self, topic_id: int, moment: datetime) -> TopicNews:
        mine = [event for _, event in self.rows if event.topic_id == topic_id]
        return TopicNews(
            [event for event in await self.since(moment) if event.topic_id == topic_id],
            max((event.message.seq for event in mine), default=0),
        )


@asynccontextmanager
async def hubs() -> AsyncIterator[tuple[RedisHub, RedisHub, Seen]]:
    channel = f"routing-{uuid.uuid4().hex[:8]}"
    sender, reader = RedisHub(redis_url(), channel), RedisHub(redis_url(), channel)
    seen = Seen()
    reader.attach(seen)
    await sender.start()
    await reader.start()
    try:
        yield sender, reader, seen
    finally:
        await reader.stop()
        await sender.stop()


async def until(condition: object, seen: Seen, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # type: ignore[operator]
            seen.arrived.clear()
            await seen.arrived.wait()


async def test_a_node_with_no_socket_in_a_topic_receives_none_of_its_news():
    async with hubs() as (sender, reader, seen):
        reader.want(topics=[TOPIC + 1])  # a socket in another topic
        await reader.ready()
        for seq in range(1, 51):
            await sender.publish(created(seq), ev.Typing("t5", "alice", True, ev.ToTopic(TOPIC)))
        await sender.publish(created(1, TOPIC + 1))  # a marker in the topic it reads
        await until(lambda: TOPIC + 1 in seen.seqs, seen)

        assert TOPIC not in seen.seqs and not any(isinstance(e, ev.Typing) for e in seen.others)
        client = redis.asyncio.Redis.from_url(redis_url())
        try:
            _name, count = await client.execute_command("PUBSUB", "SHARDNUMSUB", sender._name(f"t:{TOPIC}"))
        finally:
            await client.aclose()
        assert count == 0  # nobody subscribed: Redis handed it to no node
        assert reader.routed == 1  # of the topic and user channels' messages, only the marker's


async def test_a_socket_that_joins_gets_every_message_after_the_join_in_order_while_another_node_sends():
    async with hubs() as (sender, reader, seen):
        sending = True
        published: list[int] = []

        async def send() -> None:
            seq = 0
            while sending:
                seq += 1
                await sender.publish(created(seq))
                published.append(seq)
                await asyncio.sleep(0.002)

        task = asyncio.create_task(send())
        await asyncio.sleep(0.1)
        reader.want(topics=[TOPIC], users=[1])  # a socket connects: its backlog is read once ready
        await reader.ready()
        joined_after = published[-1]  # stored before the backlog read: the backlog's
        await asyncio.sleep(0.3)
        sending = False
        await task
        last = published[-1]
        await until(lambda: seen.seqs.get(TOPIC, [0])[-1] == last, seen)

        got = seen.seqs[TOPIC]
        assert got == sorted(got) and len(set(got)) == len(got)  # in order, none twice
        first = got[0]
        assert first <= joined_after + 1
        assert got == list(range(first, last + 1))  # none missed


async def test_a_live_socket_moved_into_a_topic_gets_what_it_got_before_the_subscription_too():
    async with hubs() as (sender, reader, seen):
        stored = Stored()
        reader.missed = stored
        for seq in range(1, 4):  # the topic is busy on the other node, unheard here
            event = created(seq)
            stored.rows.append((datetime.now().astimezone(), event))
            await sender.publish(event)
        reader.want(topics=[TOPIC], read_back=True)  # a membership moved a live socket in
        for seq in range(4, 8):
            event = created(seq)
            stored.rows.append((datetime.now().astimezone(), event))
            await sender.publish(event)
        await until(lambda: seen.seqs.get(TOPIC, [0])[-1] == 7, seen)

        assert seen.seqs[TOPIC] == list(range(1, 8))  # read back within the margin, then live, once each


async def test_the_registry_wants_each_connections_topics_and_user_once_and_drops_them_with_it():
    from server.edge.realtime.connection import Connection
    from server.edge.realtime.registry import Registry
    from tests.edge.realtime.runtime import ALICE, LOBBY, NEWS, Recorder

    hub = RedisHub(redis_url(), "not-started")  # the bookkeeping only: nothing is subscribed
    registry = Registry(interest=hub)
    first = Connection("sid1", ALICE, Recorder(rooms=True), follows=[LOBBY])
    second = Connection("sid2", ALICE, Recorder(rooms=True), follows=[LOBBY])
    registry.add(first)
    registry.add(second)
    assert hub.subscriptions.wants == {f"t:{LOBBY}": 2, f"u:{ALICE.id}": 2}

    registry.follow(first, NEWS)  # a membership while it is live: what NEWS got is read back
    assert hub.subscriptions.wants[f"t:{NEWS}"] == 1 and NEWS in hub._join_asked
    registry.remove(first)
    registry.unfollow(second, LOBBY)
    registry.remove(second)
    assert hub.subscriptions.wants == {}


class ReadBack(Stored):
    """``Stored`` that tells when the read-back was read (the gate has it as soon as the reading
    task runs on: no await between the read and ``SeqGate.opened`` that finds the gate busy)."""

    def __init__(self) -> None:
        super().__init__()
        self.read = asyncio.Event()

    async def in_topic_since(self, topic_id: int, moment: datetime) -> TopicNews:
        try:
            return await super().in_topic_since(topic_id, moment)
        finally:
            self.read.set()


async def test_a_live_socket_moved_into_a_quiet_topic_gets_its_next_message_at_once():
    """The read-back tells the node the topic's newest seq: the next message is no first sight,
    which would wait for a predecessor that may be on its way (here 30 s)."""
    async with hubs() as (sender, reader, seen):
        stored = ReadBack()
        reader.missed = stored
        reader.gate.first_sight = 30
        for seq in range(1, 3):  # before the socket moved in, outside the read-back's margin
            stored.rows.append((datetime(2026, 1, 1).astimezone(), created(seq)))
        reader.want(topics=[TOPIC], read_back=True)
        await reader.ready()
        await asyncio.wait_for(stored.read.wait(), 5)

        event = created(3)
        stored.rows.append((datetime.now().astimezone(), event))
        await sender.publish(event)
        await until(lambda: TOPIC in seen.seqs, seen, 5)

        assert seen.seqs[TOPIC] == [3]
