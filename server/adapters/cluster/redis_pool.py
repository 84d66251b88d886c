"""How every Redis client of a node is opened: a pool that waits for a free connection.

redis-py 8's asyncio pool holds at most 100 connections and fails past them
(``MaxConnectionsError``) instead of waiting. In a connect storm through one worker (5,000
sockets at once) the limits' checks failed there, and the node fell back to its local limits
until the next heartbeat; presence and the hub's publishes share the same fate. Here a call
waits for one of ``POOL`` connections, within a bound of its own (each caller's timeout already
bounds the whole call, the wait included), and a storm opens 32 connections to Redis, not
hundreds.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio

POOL = 32  # connections per client: calls are short, and many are in flight on each
WAIT = 2.0  # seconds a call may wait for a free connection, past which it fails as an outage


def client(url: str, *, wait: float = WAIT, **options: Any) -> redis.asyncio.Redis:
    """A client of ``url`` over a pool of ``POOL`` connections that callers wait for."""
    pool = redis.asyncio.BlockingConnectionPool.from_url(url, max_connections=POOL, timeout=wait, **options)
    return redis.asyncio.Redis.from_pool(pool)
