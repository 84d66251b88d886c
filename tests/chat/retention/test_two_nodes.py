"""Two nodes on one PostgreSQL database never sweep at once (PROTOCOL.md section 16): while one
holds the retention lock, the other's round is skipped, and the lock is free again once the first
round ends. (SQLite is one process: its sweep needs no lock.)"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from sqlmodel import col

from db import migrate
from db.models import Message, Topic
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat_factory import build_chat
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import PASSWORD, WAIT
from tests.support import test_settings as settings_for

OLD = 5_000


async def seed_old(db: Database, topic_name: str, sender_id: int, count: int) -> None:
    """``count`` messages ten days old in ``topic_name`` (``seq`` after its last, which moves on)."""
    at = datetime.now(UTC) - timedelta(days=10)
    async with db.write() as repos:
        session = repos.session
        topic = (await session.execute(select(Topic).where(col(Topic.name_key) == topic_name))).scalar_one()
        rows = [
            {
                "topic_id": topic.id,
                "seq": topic.last_seq + n,
                "sender_id": sender_id,
                "body": f"old {n}",
                "created_at": at,
            }
            for n in range(1, count + 1)
        ]
        await session.execute(insert(Message), rows)
        await session.execute(
            update(Topic).where(col(Topic.id) == topic.id).values(last_seq=topic.last_seq + count)
        )


async def stored(db: Database) -> int:
    async with db.read() as repos:
        return int((await repos.session.execute(select(func.count()).select_from(Message))).scalar_one())


@pytest.mark.postgres
async def test_while_one_node_sweeps_the_others_round_is_skipped(tmp_path: Path):
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        settings = settings_for(tmp_path / "data", database_url=url, retention_days=1)
        first, second = build_chat(settings), build_chat(settings)
        await migrate.upgrade(first.db.engine)
        try:
            alice = await first.users.create("alice", PASSWORD)
            await first.topics.create(Actor(alice.id or 0, alice.username), "general")
            await seed_old(first.db, "general", alice.id or 0, OLD)
            first.retention.batch = 50  # a round of a hundred batches
            running = asyncio.create_task(first.retention.sweep())
            deadline = time.monotonic() + WAIT
            while await stored(first.db) == OLD:
                assert time.monotonic() < deadline, "the first node never swept"
                await asyncio.sleep(0.005)
            assert not running.done()

            meanwhile = await second.retention.sweep()

            assert meanwhile.skipped and meanwhile.messages == 0
            assert (await running).messages == OLD
            afterwards = await second.retention.sweep()
            assert not afterwards.skipped and afterwards.messages == 0
        finally:
            await first.db.dispose()
            await second.db.dispose()
