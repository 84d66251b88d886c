"""The Redis hub's publishing across a broker restart, against a redis-server of the test's own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from server.adapters.cluster.redis_hub import BrokerUnreachable, RedisHub
from server.chat.kernel.events import ToEveryone, Typing
from tests.adapters.cluster.swallowing import Swallowing
from tests.redis_instance import own_redis

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]
NO_BEATS = 3600.0  # the test publishes by hand; no heartbeat of the hub's own interferes


async def test_the_first_publish_after_a_broker_restart_goes_through(tmp_path: Path):
    async with own_redis(tmp_path) as broker:
        hub = RedisHub(broker.url, "test", heartbeat=NO_BEATS)
        await hub.start()
        try:
            heard = await asyncio.gather(*(hub._send(()) for _ in range(4)))  # several pooled connections
            assert all(count == 1 for count in heard)  # the hub's own subscriber heard each
            broker.kill()
            assert await hub._send(()) is None  # the channel is down
            await broker.start()

            # Connections opened before the crash were dropped with it: none fails once more.
            again = await asyncio.gather(*(hub._send(()) for _ in range(4)))
            assert None not in again
        finally:
            await hub.stop()


async def test_a_stop_ends_even_when_a_sink_swallowed_the_listeners_cancellation(tmp_path: Path):
    """Seen in CI: a node's shutdown waited on its listener past the test's 60 s."""
    async with own_redis(tmp_path) as broker:
        here, there = RedisHub(broker.url, "test"), RedisHub(broker.url, "test")
        sink = Swallowing()
        here.attach(sink)
        await here.start()
        await there.start()
        try:
            await there.publish(Typing("general", "alice", True, ToEveryone()))
            async with asyncio.timeout(10):
                await sink.entered.wait()  # the listener is inside the sink
            async with asyncio.timeout(10):
                await here.stop()
            assert sink.swallowed == 1
        finally:
            await there.stop()


@contextmanager
def logged(logger: str, words: str) -> Iterator[asyncio.Event]:
    """An event set when ``logger`` logs a record containing ``words``."""
    seen = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if words in record.getMessage():
                seen.set()

    watch = Watch()
    logging.getLogger(logger).addHandler(watch)
    try:
        yield seen
    finally:
        logging.getLogger(logger).removeHandler(watch)


async def test_a_node_started_while_the_broker_hangs_serves_once_it_answers(tmp_path: Path):
    """A loaded machine (or a broker started beside the nodes) may keep Redis from answering a
    node's first subscribe in time: the node tries again rather than failing its start."""
    async with own_redis(tmp_path) as broker:
        hub = RedisHub(broker.url, "test", heartbeat=NO_BEATS)
        broker.pause()
        with logged("parley.cluster", "trying again") as retried:
            starting = asyncio.create_task(hub.start())
            try:
                async with asyncio.timeout(10):
                    await retried.wait()  # one subscribe timed out
                assert not starting.done()
                broker.resume()
                async with asyncio.timeout(10):
                    await starting
                assert await hub._send(()) == 1  # subscribed: the hub hears its own publish
            finally:
                broker.resume()
                await hub.stop()


async def test_a_node_gives_up_on_a_broker_that_never_answers_with_a_clear_error():
    hub = RedisHub("redis://:hunter2@127.0.0.1:1/0", "test", heartbeat=NO_BEATS, startup_wait=0.5)
    with pytest.raises(
        BrokerUnreachable, match=r"Redis at redis://:\*\*\*@127.0.0.1:1/0 did not answer"
    ) as failed:
        await hub.start()
    assert "hunter2" not in str(failed.value)  # the password stays out of the log
    await hub.stop()


class Heard:
    """A sink that keeps what it is told, and says when it holds ``expected`` events."""

    def __init__(self, expected: int) -> None:
        self.events: list[object] = []
        self.expected = expected
        self.full = asyncio.Event()

    async def deliver(self, event: object) -> None:
        self.events.append(event)
        if len(self.events) >= self.expected:
            self.full.set()


async def test_what_one_node_publishes_at_once_reaches_another_in_the_order_it_was_published(tmp_path: Path):
    """Concurrent publishes (sends of several tabs, a call's offer, answer and candidates) are
    numbered in the order they are made and must reach Redis in that order: over a pool of
    connections a later number could overtake an earlier one, and the receiver took the jump for
    lost news (a read-back from the database, ``NewsMissed`` to its sinks) and delivered what
    was not stored (typing, a call's signals) out of order."""
    count = 400
    async with own_redis(tmp_path) as broker:
        here = RedisHub(broker.url, "test", heartbeat=NO_BEATS)
        there = RedisHub(broker.url, "test", heartbeat=NO_BEATS)
        heard = Heard(count)
        there.attach(heard)
        await here.start()
        await there.start()
        try:
            sent = [Typing("general", f"user{n}", True, ToEveryone()) for n in range(count)]
            await asyncio.gather(*(here.publish(event) for event in sent))
            async with asyncio.timeout(10):
                await heard.full.wait()
            assert heard.events == sent
        finally:
            await here.stop()
            await there.stop()
