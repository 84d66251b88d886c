"""A request holds at most one of the pool's connections: more requests at once than the pool has
connections wait their turn, and none waits on a second connection while it holds a first.

On PostgreSQL the serving engine's pool has ``POOL_SIZE + POOL_OVERFLOW`` connections. A subscribe
read the block list it needed for the history page on a connection of its own while it held its
transaction's, so sixteen subscribes at once on a server that had not loaded a block list yet took
every connection and each waited for a second one until the pool's 30 s wait ran out (found by
tests/edge/sio/test_reconnect_storm.py on PostgreSQL, in CI).
"""

from __future__ import annotations

import asyncio

import pytest

from db.engine import POOL_OVERFLOW, POOL_SIZE
from tests.support import LiveServer, bearer

AT_ONCE = POOL_SIZE + POOL_OVERFLOW + 5  # more than the pool: every connection is taken at once
ANSWERED_WITHIN = 15.0  # the pool's own wait is 30 s: a request held for a second connection fails


@pytest.mark.parametrize("database", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_more_subscribes_at_once_than_the_pool_has_connections_are_all_answered(
    live_server: LiveServer,
):
    owner = await live_server.register("owner")
    created = await live_server.http.post("/api/topics", json={"name": "crowded"}, headers=bearer(owner))
    assert created.status_code == 201, created.text
    tokens = await asyncio.gather(*(live_server.register(f"member{i}") for i in range(AT_ONCE)))

    async def subscribe(token: str) -> int:
        answer = await live_server.http.post(
            "/api/topics/crowded/subscribe", json={}, headers=bearer(token), timeout=ANSWERED_WITHIN
        )
        return answer.status_code

    async with asyncio.timeout(ANSWERED_WITHIN):
        answers = await asyncio.gather(*(subscribe(token) for token in tokens))

    assert answers == [200] * AT_ONCE
    history = await live_server.http.get("/api/topics/crowded/messages", headers=bearer(tokens[0]))
    assert history.status_code == 200, history.text
