"""The server API's presence of a large topic (PROTOCOL.md section 17): who of N members is online.

    .venv/bin/python -m bench.server_presence \\
        --url postgresql+asyncpg://postgres@127.0.0.1:5432/test     # a server we may create databases on
    .venv/bin/python -m bench.server_presence --url ... --redis redis://127.0.0.1:6379/0

A fresh, migrated PostgreSQL database is seeded with ``--members`` users (10,000 by default), all
members of one private topic, a share of them (``--online``) online in the presence registry: this
process's own (one node) or, with ``--redis``, the cluster's registry in Redis (one node's set, as
the nodes write it). Each request is ``ServerPresence.topic``, what ``GET
/api/server/topics/{name}/presence`` calls: the topic found by name, its members' ids and names
read, one set query of the registry, the online names sorted. Timed one after another after a
warm-up; reported in milliseconds: p50, p95, p99 and the longest (the target: p95 under 50 ms).
The seeded tables are analyzed first, as autovacuum analyzes them within a minute of a bulk load
(``--no-analyze`` measures the planner's guesses for tables it has never looked at).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy import text

from bench.stats import percentile
from db.migrate import upgrade
from db.uow import Database
from server.chat.backends.presence import ServerPresence
from server.chat.kernel.gather import LocalGather
from server.chat.kernel.hub import MemoryHub
from server.chat.kernel.online import LocalRegistry, OnlineRegistry
from server.chat.presence.service import PresenceService

TOPIC = "crowd"
WARM_UP = 20
SEED = [
    "INSERT INTO users (username, username_key, password_hash, created_at, token_version)"
    " SELECT 'member' || n, 'member' || n, '!', now(), 0 FROM generate_series(1, :members) AS n",
    "INSERT INTO topics (name, name_key, kind, owner_id, created_at, last_seq)"
    " SELECT :topic, :topic, 'private', min(id), now(), 0 FROM users",
    "INSERT INTO memberships (topic_id, user_id, role, joined_at, delivered_seq, read_seq)"
    " SELECT t.id, u.id, 'member', now(), 0, 0 FROM users u, topics t WHERE t.name_key = :topic",
]


async def seed(database: Database, members: int, analyze: bool = True) -> list[int]:
    """``members`` users in one topic; their ids. ``analyze``: the tables' statistics taken after, as
    autovacuum takes them within a minute of a bulk load; without them the planner guesses a few
    rows a table and reads 10,000 members by 10,000 index lookups (39 ms, not 8, ``--no-analyze``)."""
    async with database.write() as repos:
        for statement in SEED:
            await repos.session.execute(text(statement), {"members": members, "topic": TOPIC})
        ids = (await repos.session.execute(text("SELECT id FROM users ORDER BY id"))).scalars()
        if analyze:
            await repos.session.execute(text("ANALYZE users, topics, memberships"))
        return [int(user_id) for user_id in ids]


async def nobody_gone(_user_ids: list[int]) -> None:
    """A bench's registry outlives no node."""


async def registry_of(redis: str | None) -> OnlineRegistry:
    if redis is None:
        return LocalRegistry()
    # Imported here: only a run against Redis needs it.
    from server.adapters.cluster.redis_presence import RedisRegistry

    return RedisRegistry(redis, f"bench-presence-{uuid.uuid4().hex[:8]}")


async def timed(service: ServerPresence, requests: int) -> tuple[list[float], int]:
    for _ in range(WARM_UP):
        await service.topic(TOPIC)
    took = []
    online = 0
    for _ in range(requests):
        started = time.perf_counter()
        answer = await service.topic(TOPIC)
        took.append((time.perf_counter() - started) * 1000)
        online = answer.count
    return sorted(took), online


async def measure(
    url: str, members: int, share: float, requests: int, redis: str | None, analyze: bool = True
) -> dict[str, Any]:
    database = Database(url)
    registry = await registry_of(redis)
    try:
        await upgrade(database.engine)
        ids = await seed(database, members, analyze)
        await registry.start(nobody_gone)
        for user_id in ids[: round(len(ids) * share)]:
            await registry.arrive(user_id)
        presence = PresenceService(database, MemoryHub(), 0.0, registry)
        took, online = await timed(ServerPresence(database, presence, LocalGather()), requests)
    finally:
        await registry.stop()
        await database.dispose()
    return {
        "database": "postgres",
        "registry": "redis" if redis else "one process",
        "analyzed": analyze,
        "members": members,
        "online": online,
        "requests": requests,
        "p50_ms": round(percentile(took, 50), 2),
        "p95_ms": round(percentile(took, 95), 2),
        "p99_ms": round(percentile(took, 99), 2),
        "longest_ms": round(took[-1], 2),
    }


async def run(
    url: str, members: int, share: float, requests: int, redis: str | None, analyze: bool = True
) -> dict[str, Any]:
    """In a database of its own, created next to the one ``url`` names and dropped after."""
    base, _, _ = url.rpartition("/")
    name = f"parley_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return await measure(f"{base}/{name}", members, share, requests, redis, analyze)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.server_presence", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", required=True, help="a PostgreSQL server we may create a database on")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--online", type=float, default=0.5, help="the share of members online")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--redis", help="the presence registry in this Redis (else this process's)")
    parser.add_argument(
        "--no-analyze", dest="analyze", action="store_false", help="measure before the tables' statistics"
    )
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.url, args.members, args.online, args.requests, args.redis, args.analyze))
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
