"""``topic:list`` when every account is in #lobby: ``python -m bench.topic_list [--members N]``.

Every new account joins the default topics (``PARLEY_DEFAULT_TOPICS``, #lobby), and the page asks
``topic:list`` when it opens, after presence news (to show online counts) and every 30 s. So the
cost of one list with N accounts in #lobby, times N pages, is what a workspace of N people pays.

    .venv/bin/python -m bench.topic_list --members 1000,10000,50000          # SQLite in a temp dir
    .venv/bin/python -m bench.topic_list --database postgresql+asyncpg://postgres@127.0.0.1:5432/NAME

In-process (``bench.inproc``): a migrated database seeded in bulk with ``--members`` users, all
members of #lobby, a share of them (``--online``) online in this process's presence registry; then
``TopicService.list`` (what a ``topic:list`` event calls) for one of them, one call after another
after a warm-up; the same list when it counts #lobby again (what one list per node every
``topic_counts.FRESH`` seconds pays; every list paid it before); and ``TopicService.subscribe`` of a
newcomer, with its unsubscribe; once, ``topic:members`` of #lobby (what the page asked for on
opening a conversation until it took the viewer's role from the list); and ``topic:members`` with a
query, as the page's ``@`` completion asks it in a crowded topic. Prints milliseconds: p50,
p95 and the longest, per size, as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from sqlalchemy import text

from bench.inproc import started_chat
from bench.stats import percentile
from server.chat.kernel.actors import Actor
from server.chat.service import Chat

WARM_UP = 5
SEED = [
    "INSERT INTO users (username, username_key, password_hash, created_at, token_version)"
    " VALUES (:name, :name, '!', CURRENT_TIMESTAMP, 0)",
]
WORDS = "INSERT INTO user_words (word, user_id) SELECT username_key, id FROM users"  # as set_words keeps them
QUERY = "member123"  # an ``@`` completion's query: member123 and member1230-member1239 ... match
JOIN = (
    "INSERT INTO memberships (topic_id, user_id, role, joined_at, delivered_seq, read_seq)"
    " SELECT t.id, u.id, 'member', CURRENT_TIMESTAMP, 0, 0 FROM users u, topics t"
    " WHERE t.name_key = 'lobby' AND u.username_key LIKE 'member%'"
)


async def seed(chat: Chat, members: int) -> list[int]:
    """``members`` users, all in #lobby; their ids (one newcomer more, not a member)."""
    async with chat.db.write() as repos:
        rows = [{"name": f"member{n}"} for n in range(members)] + [{"name": "newcomer"}]
        await repos.session.execute(text(SEED[0]), rows)
        await repos.session.execute(text(JOIN))
        await repos.session.execute(text(WORDS))
        ids = (await repos.session.execute(text("SELECT id FROM users ORDER BY id"))).scalars()
        return [int(user_id) for user_id in ids]


async def timed(call: Any, requests: int) -> list[float]:
    for _ in range(WARM_UP):
        await call()
    took = []
    for _ in range(requests):
        started = time.perf_counter()
        await call()
        took.append((time.perf_counter() - started) * 1000)
    return sorted(took)


def summary(took: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(took, 50), 2),
        "p95_ms": round(percentile(took, 95), 2),
        "longest_ms": round(took[-1], 2),
    }


async def measure(database: str | None, members: int, share: float, requests: int) -> dict[str, Any]:
    async with started_chat(database) as chat:
        ids = await seed(chat, members)
        for user_id in ids[: round(members * share)]:
            await chat.presence.registry.arrive(user_id)
        reader = Actor(ids[0], "member0")
        listed = await chat.topics.list(reader)
        lobby = next(topic for topic in listed.topics if topic.name == "lobby")
        took = await timed(lambda: chat.topics.list(reader), requests)
        counts = chat.topics.counts
        fresh, counts.fresh = counts.fresh, 0.0  # every list counts #lobby again, as one per FRESH s does
        recounted = await timed(lambda: chat.topics.list(reader), max(1, requests // 4))
        counts.fresh = fresh
        newcomer = Actor(ids[-1], "newcomer")

        async def join_and_leave() -> None:
            await chat.topics.subscribe(newcomer, "lobby")
            await chat.topics.unsubscribe(newcomer, "lobby")

        joined = await timed(join_and_leave, max(1, requests // 4))
        started = time.perf_counter()
        roster = await chat.topics.members(reader, "lobby")  # what the page asked on opening #lobby
        roster_ms = (time.perf_counter() - started) * 1000
        matched = await chat.topics.members(reader, "lobby", query=QUERY, limit=8)
        searched = await timed(lambda: chat.topics.members(reader, "lobby", query=QUERY, limit=8), requests)
    return {
        "database": database or "sqlite",
        "members": lobby.members,
        "online": lobby.online,
        "topic:list": summary(took),
        "topic:list that counts a crowded #lobby again (one per node every FRESH s)": summary(recounted),
        "crowded topics counted": counts.counted,
        "topic:subscribe + topic:unsubscribe": summary(joined),
        "topic:members of #lobby (once)": {
            "ms": round(roster_ms, 2),
            "members": len(roster.members),
            "answer_kib": len(roster.model_dump_json()) // 1024,
        },
        f"topic:members of #lobby with query {QUERY!r}, limit 8 (the page's @ completion)": {
            **summary(searched),
            "members": len(matched.members),
        },
    }


async def run(database: str | None, sizes: list[int], share: float, requests: int) -> list[dict[str, Any]]:
    return [await measure(database, size, share, requests) for size in sizes]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.topic_list", description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--members", default="1000,10000,50000", help="sizes of #lobby, comma-separated")
    parser.add_argument("--online", type=float, default=1.0, help="the share of members online")
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.members.split(",")]
    results = asyncio.run(run(args.database, sizes, args.online, args.requests))
    sys.stdout.write(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
