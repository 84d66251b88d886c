"""The directory at scale (PROTOCOL.md section 14): ``users:search`` over N users, in-process.

    .venv/bin/python -m bench.directory                     # 100,000 users, SQLite in a temp dir
    .venv/bin/python -m bench.directory --database postgresql+asyncpg://postgres@127.0.0.1:5432/NAME

Fills the users (each with a display name of two words from small lists, so prefixes match many
users, as a real directory's do) and their ``user_words`` with bulk inserts, then times
``PeopleService.search`` (the service call a ``users:search`` event makes: the word range, the
users, presence for each) for random 1-4 letter prefixes and whole names, and prints p50/p95/max
and the query plans of the word range and the users read.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bench.inproc import started_chat
from server.chat.accounts.words import words_of
from server.chat.kernel.actors import Actor
from server.chat.service import Chat

FIRST = ["Ada", "Élodie", "Grace", "Linus", "Margaret", "Søren", "Zoë", "Ken", "Barbara", "Dennis", "Guido"]
LAST = [
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Kierkegaard",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Rossum",
]
BATCH = 5000


async def main(users: int, queries: int, database: str | None) -> None:
    async with started_chat(database, default_topics=[]) as chat:
        await fill(chat, users)
        await measure(chat, queries)


async def fill(chat: Chat, count: int) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        rows: list[dict[str, Any]] = []
        words: list[dict[str, Any]] = []
        for i in range(first, min(count, first + BATCH)):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            username = f"user{i:06d}"
            rows.append({"id": i + 1, "u": username, "k": username, "n": name, "c": now})
            words += [{"w": word, "id": i + 1} for word in words_of(username, name)]
        async with chat.db.write() as repos:
            await repos.session.execute(
                text(
                    "INSERT INTO users (id, username, username_key, password_hash, created_at, token_version,"
                    " display_name) VALUES (:id, :u, :k, '', :c, 0, :n)"
                ),
                rows,
            )
            await repos.session.execute(
                text("INSERT INTO user_words (word, user_id) VALUES (:w, :id)"), words
            )
    if chat.db.url.startswith("postgresql"):
        async with chat.db.write() as repos:
            await repos.session.execute(text("ANALYZE users"))
            await repos.session.execute(text("ANALYZE user_words"))
            await repos.session.execute(text("SELECT setval('users_id_seq', (SELECT max(id) FROM users))"))
    sys.stdout.write(f"filled {count} users in {time.perf_counter() - started:.1f} s\n")


async def measure(chat: Chat, queries: int) -> None:
    rng = random.Random(11)
    viewer = Actor(1, "user000000")
    prefixes = [w[: rng.randint(1, 4)].lower() for w in (rng.choice(FIRST + LAST) for _ in range(queries))]
    prefixes += [f"user{rng.randrange(100_000):06d}" for _ in range(queries // 10)]  # exact usernames
    timings = []
    found = 0
    for q in prefixes:
        t0 = time.perf_counter()
        answer = await chat.people.search(viewer, q, 20)
        timings.append((time.perf_counter() - t0) * 1000)
        found += len(answer.users)
    timings.sort()
    p50, p95 = statistics.median(timings), timings[int(len(timings) * 0.95)]
    sys.stdout.write(
        f"{len(timings)} searches, {found / len(timings):.1f} users each: p50 {p50:.2f} ms,"
        f" p95 {p95:.2f} ms, max {timings[-1]:.2f} ms\n"
    )
    await plans(chat)


async def plans(chat: Chat) -> None:
    postgres = chat.db.url.startswith("postgresql")
    explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    hi = "gra" + "\U0010ffff"
    statements = [
        (
            "word range",
            "SELECT user_id FROM user_words WHERE word >= :lo AND word < :hi ORDER BY word LIMIT 80",
            {"lo": "gra", "hi": hi},
        ),
        ("users read", "SELECT * FROM users WHERE id IN (1, 2, 3) ORDER BY username_key LIMIT 20", {}),
    ]
    async with chat.db.read() as repos:
        for label, sql, params in statements:
            rows = (await repos.session.execute(text(explain + sql), params)).all()
            plan = " | ".join(str(row[-1]) for row in rows)
            sys.stdout.write(f"plan ({label}): {plan}\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--database", help="a database URL (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    asyncio.run(main(args.users, args.queries, args.database))
