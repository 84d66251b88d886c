"""A unit of work opened inside another always finds a connection (``db/turns.py``).

Real pools: a SQLite file and a PostgreSQL database, both with the serving engine's 5 + 10
connections. More tasks than the pool has connections each open a read and, holding it, a
second one (what a lookup whose cache missed does): every one of them finishes. Without turns
the outer reads took every connection and each waited for a second until the pool's 30 s ran out.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from db.engine import POOL_OVERFLOW, POOL_SIZE
from db.turns import NESTED_RESERVE, PoolTurns
from tests.databases import migrated_database

TASKS = POOL_SIZE + POOL_OVERFLOW + 5
FINISHED_WITHIN = 10.0  # the pool's own wait is 30 s


@pytest.mark.both_databases
async def test_more_blocks_than_connections_each_opening_one_inside_all_finish(tmp_path: Path, database: str):
    async with migrated_database(database, tmp_path, "turns") as db:
        outer_turns = db.turns.outer
        inside = 0
        all_outer_in = asyncio.Event()  # every outer turn taken before any inner read starts

        async def lookup_inside_a_read() -> int:
            nonlocal inside
            async with db.read() as repos:
                await repos.users.by_name("nobody")  # the connection is really checked out
                inside += 1
                if inside >= outer_turns:
                    all_outer_in.set()
                await all_outer_in.wait()
                async with db.read() as nested:  # a cache's load, holding the outer connection
                    await nested.users.by_name("nobody")
            return 1

        async with asyncio.timeout(FINISHED_WITHIN):
            finished = await asyncio.gather(*(lookup_inside_a_read() for _ in range(TASKS)))

        assert sum(finished) == TASKS
        assert outer_turns == POOL_SIZE + POOL_OVERFLOW - NESTED_RESERVE


async def test_a_task_started_inside_a_turn_waits_for_a_turn_of_its_own():
    turns = PoolTurns(NESTED_RESERVE + 1, 10.0)  # one outer turn
    order: list[str] = []

    async def child() -> None:
        async with turns.turn():
            order.append("child")

    async with turns.turn():
        started = asyncio.create_task(child())
        async with turns.turn():  # inside the holder's own block: no wait
            order.append("nested")
        await asyncio.sleep(0)  # the child runs up to its turn
        assert not started.done()
        order.append("parent leaves")
    await started

    assert order == ["nested", "parent leaves", "child"]


async def test_a_turn_not_given_within_the_pools_wait_fails_as_the_pools_wait_does():
    turns = PoolTurns(NESTED_RESERVE + 1, 0.2)  # one outer turn, a wait of 0.2 s

    async def another() -> None:
        async with turns.turn():
            pass

    async with turns.turn():
        with pytest.raises(TimeoutError):  # an outage's class (db/errors.py), not a wait without end
            await asyncio.create_task(another())
    await another()  # the turn is back: taken at once
