"""Housekeeping (server/chat/operators/housekeeping.py) with the prunings the capabilities
register: old outbox, delivery-log, push-outbox and relay rows are pruned in batches; newer rows
stay, and a pending delivery or push is never pruned however old. On SQLite and PostgreSQL,
through the real repositories."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from db import migrate
from db.models import PushOutbox, Relay, WebhookDelivery, WebhookOutbox
from db.notifications.push import PushRow
from db.records import DueDelivery, OutboxRow, WebhookRecord
from db.uow import Database
from server.chat.audit.assembly import prune_audit
from server.chat.integrations.assembly import prune_deliveries
from server.chat.kernel.hub import MemoryHub
from server.chat.kernel.wiring import Wiring
from server.chat.notifications.assembly import prune_outboxes
from server.chat.operators.housekeeping import BATCH, Housekeeping, prune_relay
from server.chat_factory import build_chat
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = 86400.0


@pytest.fixture
async def db(database: str, tmp_path: Path) -> AsyncIterator[Database]:
    if database == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=True) as url:
            found = Database(url)
            await migrate.upgrade(found.engine)
            yield found
            await found.dispose()
    else:
        found = Database(f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}")
        await migrate.upgrade(found.engine)
        yield found
        await found.dispose()


def housekeeping_for(db: Database, *, outbox: float, log: float) -> Housekeeping:
    """Housekeeping with the prunings the capabilities register (as their builds do)."""
    w = Wiring(db, MemoryHub())
    prune_deliveries(w, outbox, log)
    prune_outboxes(w, outbox)
    prune_audit(w, 365 * DAY)
    prune_relay(w)
    return Housekeeping(db, w.prunings)


async def test_each_capability_registers_what_it_prunes_with_its_setting(tmp_path: Path) -> None:
    """The chat's housekeeping prunes what the builds registered, each kept as its setting says
    (the outboxes share the webhooks' retention; the relay keeps ten minutes)."""
    chat = build_chat(settings_for(tmp_path, webhook_outbox_retention=3600, webhook_log_retention=60))
    try:
        kept = {pruning.name: pruning.keep for pruning in chat.housekeeping.prunings}
        assert kept == {
            "outbox": 3600,
            "log": 60,
            "mail": 3600,
            "push": 3600,
            "audit": 365 * DAY,
            "relay": 600,
            "sessions": DAY,  # ended or expired; a day, or an access token's life if longer
            "password resets": 0,  # once expired
        }
    finally:
        await chat.db.dispose()


async def a_webhook(db: Database) -> str:
    hook = WebhookRecord(uuid.uuid4().hex, 1, "https://example.com/in", ("message",), "s", None, 1, NOW)
    async with db.write() as repos:
        await repos.webhooks.add(hook)
    return hook.id


async def a_delivery(db: Database, hook: str, written: datetime, status: str, attempts: int = 1) -> str:
    """An outbox row written at ``written`` with ``attempts`` attempts logged (the last one
    leaving it ``status``), each attempt an hour after the row."""
    row = OutboxRow(uuid.uuid4().hex, hook, "message", "{}", None, written)
    async with db.write() as repos:
        await repos.webhooks.enqueue([row])
        for attempt in range(attempts):
            due = DueDelivery(row.id, hook, "message", "{}", None, attempt, written, "u", "s", None, 1)
            outcome = status if attempt == attempts - 1 else "pending"
            at = written + timedelta(hours=attempt + 1)
            await repos.webhooks.attempted(due, at, outcome, 500 if outcome != "ok" else 200, at)
    return row.id


async def outbox_ids(db: Database) -> set[str]:
    async with db.read() as repos:
        return {row[0] for row in (await repos.session.execute(select(col(WebhookOutbox.id)))).all()}


async def log_count(db: Database) -> int:
    async with db.read() as repos:
        return int(
            (await repos.session.execute(select(func.count()).select_from(WebhookDelivery))).scalar_one()
        )


async def test_finished_deliveries_past_retention_go_and_pending_ones_never(db: Database) -> None:
    hook = await a_webhook(db)
    old = NOW - timedelta(days=30)
    old_ok = await a_delivery(db, hook, old, "ok")
    old_failed = await a_delivery(db, hook, old, "failed", attempts=3)
    old_pending = await a_delivery(db, hook, old, "pending", attempts=2)
    never_tried = await a_delivery(db, hook, old, "pending", attempts=0)
    recent_ok = await a_delivery(db, hook, NOW - timedelta(days=2), "ok")
    recent_failed = await a_delivery(db, hook, NOW - timedelta(days=2), "failed")

    pruned = await housekeeping_for(db, outbox=7 * DAY, log=7 * DAY).prune(NOW)

    assert await outbox_ids(db) == {old_pending, never_tried, recent_ok, recent_failed}
    assert pruned["outbox"] == 2
    assert old_ok not in await outbox_ids(db) and old_failed not in await outbox_ids(db)
    # the log: the old rows' 1 + 3 + 2 attempts went (made 30 days ago), the recent two stayed
    assert pruned["log"] == 6
    assert await log_count(db) == 2
    async with db.read() as repos:
        assert [attempt.outbox_id for attempt in await repos.webhooks.attempts(hook)] == [
            recent_failed,
            recent_ok,
        ]


async def test_the_log_keeps_its_own_retention(db: Database) -> None:
    hook = await a_webhook(db)
    await a_delivery(db, hook, NOW - timedelta(days=3), "ok")
    pruned = await housekeeping_for(db, outbox=30 * DAY, log=1 * DAY).prune(NOW)
    assert (pruned["outbox"], pruned["log"]) == (0, 1)
    assert len(await outbox_ids(db)) == 1
    assert await log_count(db) == 0


async def test_a_backlog_larger_than_a_batch_goes_in_one_round(db: Database) -> None:
    hook = await a_webhook(db)
    old = NOW - timedelta(days=30)
    rows = [OutboxRow(uuid.uuid4().hex, hook, "message", "{}", None, old) for _ in range(2 * BATCH + 7)]
    async with db.write() as repos:
        await repos.webhooks.enqueue(rows)
        for row in rows:
            due = DueDelivery(row.id, hook, "message", "{}", None, 0, old, "u", "s", None, 1)
            await repos.webhooks.attempted(due, old, "ok", 200, None)
    pruned = await housekeeping_for(db, outbox=7 * DAY, log=7 * DAY).prune(NOW)
    assert (pruned["outbox"], pruned["log"]) == (len(rows), len(rows))
    assert await outbox_ids(db) == set()
    assert await log_count(db) == 0


async def test_old_relay_rows_go_but_never_the_newest(db: Database) -> None:
    async with db.write() as repos:
        for minutes in (60, 50, 40):
            await repos.relay.add("[]", NOW - timedelta(minutes=minutes))
    pruned = await housekeeping_for(db, outbox=DAY, log=DAY).prune(NOW)
    assert pruned["relay"] == 2
    async with db.read() as repos:
        left = (await repos.session.execute(select(col(Relay.created_at)))).scalars().all()
    assert [moment.astimezone(UTC) for moment in left] == [NOW - timedelta(minutes=40)]


async def test_pending_rows_of_a_removed_or_deleted_webhook_go_after_retention(db: Database) -> None:
    """A send racing a webhook's removal (or its topic's deletion) may still write a row for it:
    no worker takes it (only live webhooks' rows are due), so it is owed to nobody."""
    live, removed = await a_webhook(db), await a_webhook(db)
    old = NOW - timedelta(days=30)
    kept = await a_delivery(db, live, old, "pending", attempts=0)
    async with db.write() as repos:
        assert await repos.webhooks.remove(1, removed, old)
    orphaned = await a_delivery(db, removed, old, "pending", attempts=0)  # written after the removal
    recent = await a_delivery(db, removed, NOW - timedelta(days=1), "pending", attempts=0)
    gone_with_topic = OutboxRow(uuid.uuid4().hex, uuid.uuid4().hex, "message", "{}", None, old)
    async with db.write() as repos:
        await repos.webhooks.enqueue([gone_with_topic])  # its webhook row no longer exists

    pruned = await housekeeping_for(db, outbox=7 * DAY, log=7 * DAY).prune(NOW)

    assert pruned["outbox"] == 2
    assert await outbox_ids(db) == {kept, recent}
    assert orphaned not in await outbox_ids(db)


@pytest.mark.postgres
async def test_on_postgresql_a_node_skips_while_another_prunes() -> None:
    """The pruning lock (``prune_lock``) held by another node's transaction: this round prunes
    nothing and waits for nothing; once it is free the next round prunes."""
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        db = Database(url)
        try:
            await migrate.upgrade(db.engine)
            hook = await a_webhook(db)
            await a_delivery(db, hook, NOW - timedelta(days=30), "ok")
            housekeeping = housekeeping_for(db, outbox=7 * DAY, log=7 * DAY)
            async with db.write() as other_node:
                assert await other_node.webhooks.prune_lock()
                pruned = await housekeeping.prune(NOW)
                assert (pruned["outbox"], pruned["log"], pruned["relay"]) == (0, 0, 0)
            pruned = await housekeeping.prune(NOW)
            assert (pruned["outbox"], pruned["log"]) == (1, 1)
        finally:
            await db.dispose()


async def test_finished_pushes_past_retention_go_and_pending_ones_never(db: Database) -> None:
    old, recent = NOW - timedelta(days=30), NOW - timedelta(days=2)
    rows = {
        (written, status): PushRow(uuid.uuid4().hex, uuid.uuid4().hex, 1, 1, "{}", written)
        for written in (old, recent)
        for status in ("ok", "failed", "pending")
    }
    async with db.write() as repos:
        await repos.push.enqueue(list(rows.values()))
        for (_, status), row in rows.items():
            if status != "pending":
                await repos.push.attempted(row.id, status, None)

    pruned = await housekeeping_for(db, outbox=7 * DAY, log=7 * DAY).prune(NOW)

    assert pruned["push"] == 2
    async with db.read() as repos:
        left = set((await repos.session.execute(select(col(PushOutbox.id)))).scalars())
    assert left == {
        row.id for (written, status), row in rows.items() if written == recent or status == "pending"
    }
