"""A retention sweep killed with -9 part-way leaves whole batches only and resumes after a restart
(PROTOCOL.md section 16).

A real ``parley serve`` process (``PARLEY_RETENTION_DAYS=1``, a sweep every 0.2 s) finds 8,000
messages ten days old in the lobby, each with a reaction, and a fresh one. It is killed with
SIGKILL once part of them is gone: every message left is whole (its reaction is there, no reaction
names a message that is gone). Started again, it sweeps the rest; the fresh message stays, and the
next message's ``seq`` follows the highest ever given (none reused).
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, insert, select, update
from sqlmodel import col

from db.models import Message, Reaction, Topic, User
from db.uow import Database
from tests.cli.runner import Place
from tests.databases import fresh_postgres_database, postgres_url
from tests.durability.test_kill9 import WAIT, crash_place, free_port, register, server

# Enough batches (at least 16 of the sweep's largest, 500; each sized to hold the write lock about
# 40 ms) that the kill, sent as soon as the first batch is seen gone, lands before the last one:
# the test asserts that it did. 40,000 before: seeding them and sweeping them was the test's minute.
OLD = 8_000
ROOT = Path(__file__).resolve().parents[2]  # the subprocess runs this tree's code


async def seed_old(database_url: str) -> tuple[int, int]:
    """OLD messages ten days old in the lobby, each with a reaction; (first old id, last seq)."""
    db = Database(database_url)
    try:
        async with db.write() as repos:
            session = repos.session
            topic = (await session.execute(select(Topic).where(col(Topic.name_key) == "lobby"))).scalar_one()
            alice = (await session.execute(select(User).where(col(User.username) == "alice"))).scalar_one()
            at = datetime.now(UTC) - timedelta(days=10)
            rows = [
                {
                    "topic_id": topic.id,
                    "seq": topic.last_seq + n,
                    "sender_id": alice.id,
                    "body": f"old {n}",
                    "created_at": at + timedelta(microseconds=n),
                }
                for n in range(1, OLD + 1)
            ]
            last = topic.last_seq + OLD
            await session.execute(insert(Message), rows)
            await session.execute(update(Topic).where(col(Topic.id) == topic.id).values(last_seq=last))
            first = (
                await session.execute(select(func.min(Message.id)).where(col(Message.body) == "old 1"))
            ).scalar_one()
            reactions = [
                {"message_id": first + n, "user_id": alice.id, "emoji": "👍", "created_at": at}
                for n in range(OLD)
            ]
            await session.execute(insert(Reaction), reactions)
        return int(first), last
    finally:
        await db.dispose()


async def counts(db: Database) -> tuple[int, int, int]:
    """(old messages left, reactions left, reactions naming a message that is gone)."""
    async with db.read() as repos:
        session = repos.session
        old = await old_left(db)
        reactions = (await session.execute(select(func.count()).select_from(Reaction))).scalar_one()
        orphans = (
            await session.execute(
                select(func.count())
                .select_from(Reaction)
                .where(col(Reaction.message_id).not_in(select(col(Message.id))))
            )
        ).scalar_one()
    return old, int(reactions), int(orphans)


async def old_left(db: Database) -> int:
    async with db.read() as repos:
        query = select(func.count()).where(col(Message.body).startswith("old "))
        return int((await repos.session.execute(query)).scalar_one())


async def post(url: str, token: str, body: str) -> dict[str, object]:
    async with httpx.AsyncClient(
        base_url=url, timeout=WAIT, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        sent = await http.post("/api/messages", json={"topic": "lobby", "body": body})
        assert sent.status_code == 201, sent.text
        found: dict[str, object] = sent.json()
        return found


async def sweep_killed_and_resumed(tmp_path: Path, database_url: str, **env: str) -> None:
    plain = crash_place(tmp_path, PYTHONPATH=str(ROOT), **env)
    sweeping: Place = plain.with_env(PARLEY_RETENTION_DAYS="1", PARLEY_RETENTION_INTERVAL="0.2")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with server(plain, port):
        token = await register(url, "alice")
        fresh = await post(url, token, "fresh")
    _first, last_seq = await seed_old(database_url)
    db = Database(database_url)  # the test's own reads, on one engine for the whole test
    try:
        await killed_and_resumed(db, sweeping, port, token, fresh, last_seq)
    finally:
        await db.dispose()


async def killed_and_resumed(
    db: Database, sweeping: Place, port: int, token: str, fresh: dict[str, object], last_seq: int
) -> None:
    url = f"http://127.0.0.1:{port}"
    async with server(sweeping, port) as process:
        deadline = time.monotonic() + WAIT
        while (left := await old_left(db)) == OLD:
            assert time.monotonic() < deadline, "the sweep never started"
            await asyncio.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        await process.wait()
    old, reactions, orphans = await counts(db)
    assert 0 < old < OLD, f"the kill did not land mid-way ({left} then {old} left)"
    assert (reactions, orphans) == (old, 0)  # whole batches only

    async with server(sweeping, port):
        deadline = time.monotonic() + WAIT * 3
        while await old_left(db) > 0:
            assert time.monotonic() < deadline, "the sweep did not resume"
            await asyncio.sleep(0.05)
        assert await counts(db) == (0, 0, 0)
        after = await post(url, token, "after the sweep")
        assert after["seq"] == last_seq + 1
        async with httpx.AsyncClient(
            base_url=url, timeout=WAIT, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            page = (await http.get("/api/topics/lobby/messages", params={"limit": 10})).json()
        assert [m["body"] for m in page["messages"]] == ["fresh", "after the sweep"]
        assert fresh["id"] in [m["id"] for m in page["messages"]]


async def test_a_sweep_killed_mid_way_keeps_whole_batches_and_resumes_on_sqlite(tmp_path):
    database = tmp_path / "data" / "parley.db"
    await sweep_killed_and_resumed(tmp_path, f"sqlite+aiosqlite:///{database}")


@pytest.mark.postgres
async def test_a_sweep_killed_mid_way_keeps_whole_batches_and_resumes_on_postgresql(tmp_path):
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        await sweep_killed_and_resumed(tmp_path, url, PARLEY_DATABASE_URL=url)
