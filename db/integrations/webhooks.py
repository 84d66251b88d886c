"""Outgoing webhooks, their outbox and their delivery log (PROTOCOL.md section 12).

The outbox is the durable half of a delivery: a row is written in the transaction of the event it
tells (here for reactions and membership changes; ``db/sends.py`` writes those of new messages with
their batch) and taken by the delivery worker when due. On PostgreSQL ``due`` locks the rows it
takes (``FOR UPDATE SKIP LOCKED``) and sets a lease (``locked_until``) before its transaction
ends, so while one node posts a row no other node takes it; on SQLite one worker runs and the
lease is the same column (cleared at its start: a lease left by a killed process must not delay).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.integrations.records import DeliveryAttempt, DueDelivery, OutboxRow, WebhookRecord
from db.integrations.tables import Webhook, WebhookDelivery, WebhookOutbox

RECENT_ATTEMPTS = 100  # the delivery log lists this many, newest first
PRUNE_LOCK = 23_0012  # pg_try_advisory_xact_lock key: one node prunes at a time (files: 23_0011)
DONE = ("ok", "failed")  # outbox rows no worker will take again (``pending`` ones are never pruned)


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, hook: WebhookRecord) -> None:
        self.session.add(
            Webhook(
                id=hook.id,
                topic_id=hook.topic_id,
                url=hook.url,
                events=list(hook.events),
                secret=hook.secret,
                bot_id=hook.bot_id,
                created_by=hook.created_by,
                created_at=hook.created_at,
            )
        )
        await self.session.flush()

    async def active(self, topic_id: int | None = None) -> list[WebhookRecord]:
        """The webhooks not removed: of one topic, or of every topic (oldest first)."""
        query = select(Webhook).where(col(Webhook.removed_at).is_(None))
        if topic_id is not None:
            query = query.where(col(Webhook.topic_id) == topic_id)
        result = await self.session.execute(query.order_by(col(Webhook.created_at), col(Webhook.id)))
        return [_record(row) for row in result.scalars()]

    async def remove(self, topic_id: int, hook_id: str, at: datetime) -> bool:
        """Mark removed and drop its pending deliveries; False when there was no such webhook."""
        result = await self.session.execute(
            update(Webhook)
            .where(
                col(Webhook.id) == hook_id,
                col(Webhook.topic_id) == topic_id,
                col(Webhook.removed_at).is_(None),
            )
            .values(removed_at=at)
        )
        if not getattr(result, "rowcount", 0):
            return False
        await self.session.execute(
            delete(WebhookOutbox).where(
                col(WebhookOutbox.webhook_id) == hook_id, col(WebhookOutbox.status) == "pending"
            )
        )
        return True

    async def of_topic(self, topic_id: int) -> list[WebhookRecord]:
        """Every webhook of the topic, removed or not."""
        result = await self.session.execute(select(Webhook).where(col(Webhook.topic_id) == topic_id))
        return [_record(row) for row in result.scalars()]

    async def active_of_bot(self, bot_id: int) -> list[WebhookRecord]:
        """The webhooks not removed whose answers post as this bot (in any topic)."""
        result = await self.session.execute(
            select(Webhook).where(col(Webhook.bot_id) == bot_id, col(Webhook.removed_at).is_(None))
        )
        return [_record(row) for row in result.scalars()]

    async def delete_of_topic(self, topic_id: int) -> None:
        """Every webhook of a topic being deleted, with its outbox rows and delivery log."""
        of_topic = select(col(Webhook.id)).where(col(Webhook.topic_id) == topic_id)
        await self.session.execute(delete(WebhookOutbox).where(col(WebhookOutbox.webhook_id).in_(of_topic)))
        await self.session.execute(
            delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id).in_(of_topic))
        )
        await self.session.execute(delete(Webhook).where(col(Webhook.topic_id) == topic_id))

    async def exists(self, topic_id: int, hook_id: str) -> bool:
        """A webhook of that topic, removed or not (its delivery log stays readable)."""
        result = await self.session.execute(
            select(col(Webhook.id)).where(col(Webhook.id) == hook_id, col(Webhook.topic_id) == topic_id)
        )
        return result.first() is not None

    async def enqueue(self, rows: Sequence[OutboxRow]) -> None:
        """Outbox rows, in the caller's transaction (the event's)."""
        for row in rows:
            self.session.add(
                WebhookOutbox(
                    id=row.id,
                    webhook_id=row.webhook_id,
                    event=row.event,
                    body=row.body,
                    trigger_message_id=row.trigger_message_id,
                    attempts=0,
                    next_at=row.created_at,
                    status="pending",
                    created_at=row.created_at,
                )
            )
        await self.session.flush()

    async def due(self, now: datetime, lease_until: datetime, limit: int) -> list[DueDelivery]:
        """Take up to ``limit`` due rows (pending, ``next_at`` passed, no live lease) of webhooks
        not removed, and lease them until ``lease_until``."""
        query = (
            select(WebhookOutbox, Webhook)
            .join(Webhook, col(Webhook.id) == col(WebhookOutbox.webhook_id))
            .where(
                col(WebhookOutbox.status) == "pending",
                col(WebhookOutbox.next_at) <= now,
                or_(col(WebhookOutbox.locked_until).is_(None), col(WebhookOutbox.locked_until) <= now),
                col(Webhook.removed_at).is_(None),
            )
            .order_by(col(WebhookOutbox.next_at))
            .limit(limit)
            .with_for_update(of=WebhookOutbox, skip_locked=True)  # PostgreSQL; SQLite has one worker
        )
        taken = [(outbox, hook) for outbox, hook in (await self.session.execute(query)).all()]
        if not taken:
            return []
        await self.session.execute(
            update(WebhookOutbox)
            .where(col(WebhookOutbox.id).in_([outbox.id for outbox, _ in taken]))
            .values(locked_until=lease_until)
        )
        return [
            DueDelivery(
                outbox.id,
                outbox.webhook_id,
                outbox.event,
                outbox.body,
                outbox.trigger_message_id,
                outbox.attempts,
                outbox.created_at,
                hook.url,
                hook.secret,
                hook.bot_id,
                hook.topic_id,
            )
            for outbox, hook in taken
        ]

    async def release_leases(self) -> None:
        """SQLite's single worker starts: a lease left by a killed process is void."""
        await self.session.execute(update(WebhookOutbox).values(locked_until=None))

    async def attempted(
        self, row: DueDelivery, at: datetime, status: str, code: int | None, next_at: datetime | None
    ) -> None:
        """The outcome of one attempt: the outbox row moves on (``status``; again at ``next_at``
        when still pending) and the delivery log gets the attempt."""
        attempt = row.attempts + 1
        values: dict[str, object] = {"attempts": attempt, "status": status, "locked_until": None}
        if next_at is not None:
            values["next_at"] = next_at
        await self.session.execute(
            update(WebhookOutbox).where(col(WebhookOutbox.id) == row.id).values(**values)
        )
        self.session.add(
            WebhookDelivery(
                outbox_id=row.id,
                webhook_id=row.webhook_id,
                event=row.event,
                attempt=attempt,
                at=at,
                status=status,
                code=code,
            )
        )
        await self.session.flush()

    async def attempts(self, hook_id: str) -> list[DeliveryAttempt]:
        """The newest ``RECENT_ATTEMPTS`` attempts of a webhook, newest first."""
        result = await self.session.execute(
            select(WebhookDelivery)
            .where(col(WebhookDelivery.webhook_id) == hook_id)
            .order_by(col(WebhookDelivery.id).desc())
            .limit(RECENT_ATTEMPTS)
        )
        return [
            DeliveryAttempt(row.outbox_id, row.event, row.attempt, row.at, row.status, row.code)
            for row in result.scalars()
        ]

    async def prune_lock(self) -> bool:
        """PostgreSQL: this transaction holds the cluster's one pruning lock (False: another node
        prunes now). SQLite: one process, always True."""
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        result = await self.session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PRUNE_LOCK}
        )
        return bool(result.scalar_one())

    async def prune_outbox(self, before: datetime, limit: int) -> int:
        """Forget up to ``limit`` outbox rows written before ``before`` whose delivery is over
        (``ok`` or ``failed``) or owed to nobody (its webhook removed or deleted: no worker takes
        it); a ``pending`` row of a live webhook is a promise and stays, however old. The count."""
        live = select(col(Webhook.id)).where(col(Webhook.removed_at).is_(None))
        stale = (
            select(col(WebhookOutbox.id))
            .where(
                col(WebhookOutbox.created_at) < before,
                or_(col(WebhookOutbox.status).in_(DONE), col(WebhookOutbox.webhook_id).not_in(live)),
            )
            .limit(limit)
        )
        ids = [row[0] for row in (await self.session.execute(stale)).all()]
        if ids:
            await self.session.execute(delete(WebhookOutbox).where(col(WebhookOutbox.id).in_(ids)))
        return len(ids)

    async def prune_log(self, before: datetime, limit: int) -> int:
        """Forget up to ``limit`` delivery-log rows of attempts made before ``before``, oldest
        first (ids grow with time: the primary key's order finds them without a scan). The count."""
        stale = (
            select(col(WebhookDelivery.id))
            .where(col(WebhookDelivery.at) < before)
            .order_by(col(WebhookDelivery.id))
            .limit(limit)
        )
        ids = [row[0] for row in (await self.session.execute(stale)).all()]
        if ids:
            await self.session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids)))
        return len(ids)


def _record(row: Webhook) -> WebhookRecord:
    return WebhookRecord(
        row.id,
        row.topic_id,
        row.url,
        tuple(row.events),
        row.secret,
        row.bot_id,
        row.created_by,
        row.created_at,
    )
