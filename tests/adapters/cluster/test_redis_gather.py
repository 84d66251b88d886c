"""Asking every node over Redis: each live node's answer, gathered within a deadline (real Redis)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from server.adapters.cluster.redis_gather import RedisGather
from server.adapters.cluster.redis_presence import RedisRegistry
from server.chat.kernel.events import AppEvent, ToUser
from server.chat.kernel.gather import Answer, LocalGather, SocketsOf
from tests.redis_instance import own_redis
from tests.scaleout.conftest import redis_url

pytestmark = [pytest.mark.redis, pytest.mark.asyncio]


async def nobody_gone(user_ids: list[int]) -> None:
    raise AssertionError(f"no node died, yet {user_ids} were reported gone")


class Cluster:
    """Nodes of one channel: each a presence registry (its heartbeat makes it live) and, unless
    told otherwise, a gather over it."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self.stack = stack
        self.channel = f"gather-{uuid.uuid4().hex[:8]}"

    async def node(self, sockets: int | None = None, asks: bool = True) -> RedisGather | None:
        """A live node; with ``asks`` a gather that answers ``SocketsOf`` with ``sockets`` (None:
        it has no answerer)."""
        registry = RedisRegistry(redis_url(), self.channel, ttl=15.0)
        await registry.start(nobody_gone)
        self.stack.push_async_callback(registry.stop)
        if not asks:
            return None
        gather = RedisGather(redis_url(), self.channel, registry)
        if sockets is not None:
            gather.answer(SocketsOf, counting(sockets, registry.node))
        await gather.start()
        self.stack.push_async_callback(gather.stop)
        return gather


def counting(sockets: int, node: str) -> Any:
    async def answer(question: SocketsOf) -> Answer:
        return {"sockets": sockets, "user": question.user_id, "node": node}

    return answer


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    async with AsyncExitStack() as stack:
        yield Cluster(stack)


async def test_every_live_node_answers_and_the_asker_answers_itself(cluster: Cluster):
    one = await cluster.node(sockets=2)
    await cluster.node(sockets=3)
    await cluster.node(sockets=0)
    assert one is not None

    started = time.monotonic()
    answers = await one.ask(SocketsOf(7), within=5.0)

    assert sorted(answer["sockets"] for answer in answers) == [0, 2, 3]
    assert {answer["user"] for answer in answers} == {7}
    assert len({answer["node"] for answer in answers}) == 3
    assert time.monotonic() - started < 4.0  # every node answered: no wait for the deadline


async def test_a_live_node_that_does_not_answer_costs_the_deadline_not_the_others_answers(cluster: Cluster):
    one = await cluster.node(sockets=1)
    await cluster.node(sockets=4)
    await cluster.node(asks=False)  # beats (live) but never answers: a hung node
    assert one is not None

    started = time.monotonic()
    answers = await one.ask(SocketsOf(7), within=1.0)
    waited = time.monotonic() - started

    assert sorted(answer["sockets"] for answer in answers) == [1, 4]
    assert 0.9 <= waited < 3.0


async def test_a_node_without_an_answerer_for_the_question_adds_nothing_and_is_not_waited_for(
    cluster: Cluster,
):
    one = await cluster.node(sockets=1)
    await cluster.node(sockets=None)
    assert one is not None

    started = time.monotonic()
    answers = await one.ask(SocketsOf(7), within=5.0)

    assert [answer["sockets"] for answer in answers] == [1]
    assert time.monotonic() - started < 4.0


async def test_a_question_carries_an_app_event_whatever_its_data(cluster: Cluster):
    one = await cluster.node(sockets=1)
    two = await cluster.node(sockets=1)
    assert one is not None and two is not None
    heard: list[AppEvent] = []

    async def answer(event: AppEvent) -> Answer:
        heard.append(event)
        return {"sockets": 1}

    two.answer(AppEvent, answer)
    event = AppEvent("app:ping", '{"$": "x", "list": [1, {"a": null}]}', ToUser(5), ack_ms=250)

    answers = await one.ask(event, within=5.0)

    assert answers == [{"sockets": 1}]  # node one has no answerer for it: only node two's
    assert heard == [event]


async def test_one_process_answers_itself():
    gather = LocalGather()
    gather.answer(SocketsOf, counting(2, "here"))

    assert await gather.ask(SocketsOf(1), within=1.0) == [{"sockets": 2, "user": 1, "node": "here"}]
    assert await gather.ask(AppEvent("app:x", "null", ToUser(1)), within=1.0) == []


async def test_while_redis_is_down_a_node_answers_alone_within_the_deadline(tmp_path: Path):
    """A question Redis cannot carry is answered by the asking node itself: bounded, never an error."""
    async with own_redis(tmp_path) as broker:
        registry = RedisRegistry(broker.url, "down", ttl=15.0)
        await registry.start(nobody_gone)
        gather = RedisGather(broker.url, "down", registry)
        gather.answer(SocketsOf, counting(2, registry.node))
        await gather.start()
        try:
            broker.kill()
            started = time.monotonic()
            answers = await gather.ask(SocketsOf(1), within=5.0)
            waited = time.monotonic() - started
        finally:
            await gather.stop()
            await registry.stop()

    assert [answer["sockets"] for answer in answers] == [2]
    assert waited < 3.0
