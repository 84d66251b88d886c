"""Search at scale (PROTOCOL.md section 9): load N messages, time six kinds of query.

    .venv/bin/python -m bench.search --database sqlite --messages 1000000
    .venv/bin/python -m bench.search --database postgres --messages 1000000 \\
        --url postgresql+asyncpg://postgres@127.0.0.1:5432/test     # a server we may create databases on

The bulk path (documented, the same tables and index as a server's): migrations bring a fresh
database to the newest revision (on SQLite that includes the FTS5 table and its triggers; on
PostgreSQL the generated ``tsvector`` column and its GIN index), then 50 users, 20 public topics
and ``--messages`` messages are written with plain SQL, ``--batch`` rows per transaction:
``INSERT INTO messages`` on SQLite (every row fires the FTS5 insert trigger, exactly as the
group-commit writer's inserts do), ``COPY`` into ``messages`` on PostgreSQL (which computes the
generated column for every row). ``topics.last_seq`` is set at the end. Bodies are 4-20 words
drawn from a Zipf vocabulary (``--vocabulary`` pseudo-words, exponent 1.1); senders and topics
are uniform; messages are one second apart.

Each query runs through ``SearchService.search`` as user ``user0`` (a member of every topic), with
the default page of 20: parse, resolve, the SQL with its access rules, the highlight. Each kind
runs ``--runs`` times (after one warm-up) and reports p50 and p95 in milliseconds; the index
size is the FTS5 table's pages (SQLite) or the GIN index (PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench.stats import percentile
from db.engine import is_sqlite
from db.migrate import upgrade
from db.sends_sqlite import sqlite_time
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.search.service import SearchService

SENDERS = 50
TOPICS = 20
START = datetime(2026, 1, 1, tzinfo=UTC)
LAST_SEQ = (
    "UPDATE topics SET last_seq = (SELECT coalesce(max(seq), 0) FROM messages m WHERE m.topic_id = topics.id)"
)
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "su", "da", "ho", "ri", "ba", "fe", "gu"]


def vocabulary(size: int) -> list[str]:
    """``size`` distinct pseudo-words, the most frequent first (short ones first, as in language)."""
    words: list[str] = []
    length = 1
    while len(words) < size:
        for n in range(len(SYLLABLES) ** length):
            word, k = "", n
            for _ in range(length):
                word += SYLLABLES[k % len(SYLLABLES)]
                k //= len(SYLLABLES)
            words.append(word)
            if len(words) == size:
                break
        length += 1
    return words


@dataclass(frozen=True)
class Corpus:
    words: list[str]
    cumulative: list[float]
    rng: random.Random

    @classmethod
    def make(cls, size: int, exponent: float, seed: int) -> Corpus:
        weights = [1 / (rank**exponent) for rank in range(1, size + 1)]
        total, cumulative = 0.0, []
        for weight in weights:
            total += weight
            cumulative.append(total)
        return cls(vocabulary(size), [c / total for c in cumulative], random.Random(seed))

    def body(self) -> str:
        rng, cumulative, words = self.rng, self.cumulative, self.words
        count = rng.randint(4, 20)
        return " ".join(
            words[min(bisect.bisect_left(cumulative, rng.random()), len(words) - 1)] for _ in range(count)
        )


def rows(corpus: Corpus, count: int, topic_ids: list[int], user_ids: list[int]) -> Iterator[tuple[Any, ...]]:
    """(topic_id, seq, sender_id, body, created_at) with each topic's seq counted from 1."""
    seqs = dict.fromkeys(topic_ids, 0)
    rng = corpus.rng
    for n in range(count):
        topic = topic_ids[rng.randrange(len(topic_ids))]
        seqs[topic] += 1
        yield (
            topic,
            seqs[topic],
            user_ids[rng.randrange(len(user_ids))],
            corpus.body(),
            START + timedelta(seconds=n),
        )


async def setup(database: Database) -> tuple[list[int], list[int]]:
    """50 users and 20 public topics that ``u0`` and everyone is a member of (plain SQL)."""
    from sqlalchemy import text

    now = START
    async with database.write() as repos:
        session = repos.session
        for n in range(SENDERS):
            await session.execute(
                text(
                    "INSERT INTO users (username, username_key, password_hash, created_at, token_version)"
                    " VALUES (:n, :n, 'x', :now, 0)"
                ),
                {"n": f"user{n}", "now": now},
            )
        for n in range(TOPICS):
            await session.execute(
                text(
                    "INSERT INTO topics (name, name_key, kind, created_at, last_seq, description)"
                    " VALUES (:n, :n, 'public', :now, 0, '')"
                ),
                {"n": f"t{n}", "now": now},
            )
        users = [r[0] for r in (await session.execute(text("SELECT id FROM users ORDER BY id"))).all()]
        topics = [r[0] for r in (await session.execute(text("SELECT id FROM topics ORDER BY id"))).all()]
        for topic in topics:
            for user in users:
                await session.execute(
                    text(
                        "INSERT INTO memberships (topic_id, user_id, role, joined_at, delivered_seq,"
                        " read_seq, notify_level) VALUES (:t, :u, 'member', :now, 0, 0, 'all')"
                    ),
                    {"t": topic, "u": user, "now": now},
                )
    return users, topics


def load_sqlite(
    path: str, corpus: Corpus, count: int, topics: list[int], users: list[int], batch: int
) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    pending: list[tuple[Any, ...]] = []

    def flush() -> None:
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO messages (topic_id, seq, sender_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
            pending,
        )
        db.execute("COMMIT")
        pending.clear()

    for topic, seq, sender, body, at in rows(corpus, count, topics, users):
        pending.append((topic, seq, sender, body, sqlite_time(at)))
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    db.execute(LAST_SEQ)
    db.execute("ANALYZE")
    db.close()


async def load_postgres(
    dsn: str, corpus: Corpus, count: int, topics: list[int], users: list[int], batch: int
) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        pending: list[tuple[Any, ...]] = []
        columns = ["topic_id", "seq", "sender_id", "body", "created_at"]
        for row in rows(corpus, count, topics, users):
            pending.append(row)
            if len(pending) >= batch:
                await connection.copy_records_to_table("messages", records=pending, columns=columns)
                pending.clear()
        if pending:
            await connection.copy_records_to_table("messages", records=pending, columns=columns)
        await connection.execute(LAST_SEQ)
        await connection.execute("VACUUM ANALYZE messages")
    finally:
        await connection.close()


def queries(corpus: Corpus) -> dict[str, str]:
    words = corpus.words
    rare = words[min(len(words) - 1, 20_000)]
    return {
        "rare": rare,
        "common": words[0],
        "two_words": f"{words[3]} {words[40]}",
        "phrase": f'"{words[0]} {words[1]}"',
        "prefix": words[200][:3] + "*",
        "short_prefix": words[200][:1] + "*",  # one letter: what a user types first
        "from": f"from:user7 {words[10]}",
    }


async def measure(database: Database, corpus: Corpus, runs: int) -> dict[str, Any]:
    service = SearchService(database)
    async with database.read() as repos:
        searcher = await repos.users.by_name("user0")
    assert searcher is not None
    actor = Actor(searcher.id, searcher.username)
    results: dict[str, Any] = {}
    for kind, q in queries(corpus).items():
        first = await service.search(actor, q)  # warm-up
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            await service.search(actor, q)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        results[kind] = {
            "q": q,
            "hits_on_page": len(first.hits),
            "p50_ms": round(percentile(timings, 50), 2),
            "p95_ms": round(percentile(timings, 95), 2),
        }
    results["index_bytes"] = await database.search.size()
    return results


async def fill(database: Database, corpus: Corpus, messages: int, batch: int) -> float:
    """Migrate, create the users and topics, load ``messages`` by the bulk path; seconds it took."""
    await upgrade(database.engine)
    users, topics = await setup(database)
    started = time.perf_counter()
    if is_sqlite(database.url):
        path = make_url(database.url).database or ""
        await asyncio.to_thread(load_sqlite, path, corpus, messages, topics, users, batch)
    else:
        dsn = make_url(database.url).set(drivername="postgresql").render_as_string(hide_password=False)
        await load_postgres(dsn, corpus, messages, topics, users, batch)
    return time.perf_counter() - started


async def run(
    kind: str,
    url: str | None,
    messages: int,
    runs: int,
    batch: int,
    size: int,
    seed: int,
    keep: bool = False,
    reuse: str | None = None,
) -> dict[str, Any]:
    corpus = Corpus.make(size, 1.1, seed)
    admin = None
    if reuse:  # measure again on a database a previous run loaded (same seed)
        database = Database(f"sqlite+aiosqlite:///{reuse}" if kind == "sqlite" else reuse)
        try:
            return {"database": kind, "reused": reuse, **await measure(database, corpus, runs)}
        finally:
            await database.dispose()
    if kind == "sqlite":
        directory = tempfile.mkdtemp(prefix="parley-search-bench-")
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
    else:
        assert url, "--url names a PostgreSQL server we may create a database on"
        base, _, _ = url.rpartition("/")
        name = f"parley_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{base}/{name}"
    database = Database(url)
    try:
        loaded = await fill(database, corpus, messages, batch)
        result = await measure(database, corpus, runs)
        kept = {"kept": make_url(url).database if kind == "sqlite" else url} if keep else {}
        return {"database": kind, "messages": messages, "load_s": round(loaded, 1), **kept, **result}
    finally:
        await database.dispose()
        if kind == "sqlite" and not keep:
            shutil.rmtree(Path(make_url(url).database or "").parent, ignore_errors=True)
        if admin is not None and not keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
        if admin is not None:
            await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--url", help="PostgreSQL: a server we may create a database on")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--vocabulary", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the loaded file or database (printed)")
    parser.add_argument("--reuse", metavar="FILE|URL", help="measure again on what --keep kept")
    args = parser.parse_args(argv)
    result = asyncio.run(
        run(
            args.database,
            args.url,
            args.messages,
            args.runs,
            args.batch,
            args.vocabulary,
            args.seed,
            args.keep,
            args.reuse,
        )
    )
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
