"""The Redis hub's publishing across a broker restart, against a redis-server of the test's own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.adapters.cluster.redis_hub import RedisHub
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
