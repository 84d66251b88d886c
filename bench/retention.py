"""The retention sweep at scale (PROTOCOL.md section 16): fill N old messages, sweep them all.

    .venv/bin/python -m bench.retention --database sqlite --messages 1000000
    .venv/bin/python -m bench.retention --database postgres --messages 1000000 \\
        --url postgresql+asyncpg://postgres@127.0.0.1:5432/test     # a server we may create databases on

The fill is ``bench.search``'s bulk path (the migrated schema with its search index: SQLite's FTS5
triggers fire on every insert and on every delete; PostgreSQL's ``tsvector`` column), messages one
second apart from 2026-01-01, spread over 20 topics; then one reaction on every tenth message, so
the sweep deletes owned rows too. The sweep is ``RetentionSweep.sweep`` with
``PARLEY_RETENTION_DAYS=1`` at the current time, so every message is past it: batches of
``--batch`` messages, each its own write transaction.

Reported: the total sweep time, the batches, and each batch's write transaction (from its start to
the end of its commit, on SQLite including the process's write lock, which is what a send waits
for): the longest, p50 and p99, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.search import Corpus, fill
from bench.stats import percentile
from db.uow import Database
from server.chat.retention.sweep import BATCH, RetentionSweep

REACTIONS = (
    "INSERT INTO reactions (message_id, user_id, emoji, created_at)"
    " SELECT id, sender_id, 'x', created_at FROM messages WHERE id % 10 = 0"
)


async def owned_rows(database: Database) -> int:
    """A reaction on every tenth message; how many."""
    async with database.write() as repos:
        await repos.session.execute(text(REACTIONS))
        return int((await repos.session.execute(text("SELECT count(*) FROM reactions"))).scalar_one())


async def sweep(database: Database, batch: int) -> dict[str, Any]:
    sweeper = RetentionSweep(database, 1, batch=batch)
    started = time.perf_counter()
    swept = await sweeper.sweep()
    total = time.perf_counter() - started
    held = sorted(seconds * 1000 for seconds in swept.held)
    async with database.read() as repos:
        left = int((await repos.session.execute(text("SELECT count(*) FROM messages"))).scalar_one())
    return {
        "swept": swept.messages,
        "left": left,
        "sweep_s": round(total, 2),
        "batches": swept.batches,
        "messages_per_s": round(swept.messages / total) if total else None,
        "longest_write_ms": round(swept.longest * 1000, 2),
        "p50_write_ms": round(percentile(held, 50), 2) if held else None,
        "p99_write_ms": round(percentile(held, 99), 2) if held else None,
    }


async def run(kind: str, url: str | None, messages: int, batch: int, load_batch: int) -> dict[str, Any]:
    admin = None
    if kind == "sqlite":
        directory = tempfile.mkdtemp(prefix="parley-retention-bench-")
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
        loaded = await fill(database, Corpus.make(50_000, 1.1, 1), messages, load_batch)
        reactions = await owned_rows(database)
        result = await sweep(database, batch)
        return {
            "database": kind,
            "messages": messages,
            "reactions": reactions,
            "load_s": round(loaded, 1),
            **result,
        }
    finally:
        await database.dispose()
        if kind == "sqlite":
            shutil.rmtree(Path(make_url(url).database or "").parent, ignore_errors=True)
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
            await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retention", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--url", help="PostgreSQL: a server we may create a database on")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=BATCH, help="messages per sweep transaction")
    parser.add_argument("--load-batch", type=int, default=10_000, help="rows per fill transaction")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.database, args.url, args.messages, args.batch, args.load_batch))
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
