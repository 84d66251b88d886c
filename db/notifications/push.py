"""Web Push (PROTOCOL.md section 15): the browsers' subscriptions and the push outbox.

A subscription is one row per endpoint (``endpoint_key``, its SHA-256): a browser that subscribes
again, for whoever, takes the row over. An outbox row is one push of one message to one
subscription, unique on the pair, so however many nodes or retries of the notifier wrote it, one
push leaves. ``due`` leases the rows it takes (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
``locked_until``) and drops, rather than hands out, the rows whose push is no longer owed: the
message deleted, the recipient's read mark at or past it, the subscription or the membership
gone (the cancel-on-read rule, checked at the last moment before the push leaves).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.conversations.tables import Membership, Message
from db.notifications.tables import PushOutbox, PushSubscription

PENDING, OK, FAILED = "pending", "ok", "failed"


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: str
    user_id: int
    endpoint: str
    p256dh: str
    auth: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PushRow:
    """A push to write (the notifier's push channel): ``payload`` is the JSON before encryption."""

    id: str
    subscription_id: str
    user_id: int
    message_id: int
    payload: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DuePush:
    """An outbox row the worker took, with the subscription it goes to."""

    id: str
    subscription_id: str
    endpoint: str
    p256dh: str
    auth: str
    payload: str
    attempts: int
    created_at: datetime


def _subscription(row: PushSubscription) -> SubscriptionRecord:
    return SubscriptionRecord(row.id, row.user_id, row.endpoint, row.p256dh, row.auth, row.created_at)


class PushRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # Subscriptions -------------------------------------------------------------------------

    async def subscribe(self, record: SubscriptionRecord, endpoint_key: str) -> SubscriptionRecord:
        """Store a subscription; the same endpoint again keeps its row (and id), now ``record``'s
        user's and keys. Its pushes still owed to the previous user go."""
        previous = (
            await self.session.execute(
                select(PushSubscription).where(col(PushSubscription.endpoint_key) == endpoint_key)
            )
        ).scalar_one_or_none()
        if previous is None:
            row = PushSubscription(
                id=record.id,
                user_id=record.user_id,
                endpoint=record.endpoint,
                endpoint_key=endpoint_key,
                p256dh=record.p256dh,
                auth=record.auth,
                created_at=record.created_at,
            )
            self.session.add(row)
            await self.session.flush()
            return record
        if previous.user_id != record.user_id:
            await self._drop_pending(previous.id)
        previous.user_id, previous.endpoint = record.user_id, record.endpoint
        previous.p256dh, previous.auth = record.p256dh, record.auth
        await self.session.flush()
        return _subscription(previous)

    async def count(self, user_id: int, except_key: str | None = None) -> int:
        query = select(func.count()).where(col(PushSubscription.user_id) == user_id)
        if except_key is not None:
            query = query.where(col(PushSubscription.endpoint_key) != except_key)
        return int((await self.session.execute(query)).scalar_one())

    async def subscriptions(self, user_id: int) -> list[SubscriptionRecord]:
        query = (
            select(PushSubscription)
            .where(col(PushSubscription.user_id) == user_id)
            .order_by(col(PushSubscription.created_at), col(PushSubscription.id))
        )
        return [_subscription(row) for row in (await self.session.execute(query)).scalars()]

    async def subscriptions_of(self, user_ids: Sequence[int]) -> dict[int, list[SubscriptionRecord]]:
        """Each of ``user_ids``' subscriptions (only those who have some)."""
        found: dict[int, list[SubscriptionRecord]] = {}
        if user_ids:
            query = select(PushSubscription).where(col(PushSubscription.user_id).in_(list(user_ids)))
            for row in (await self.session.execute(query)).scalars():
                found.setdefault(row.user_id, []).append(_subscription(row))
        return found

    async def unsubscribe(self, subscription_id: str, user_id: int | None = None) -> bool:
        """Remove a subscription (``user_id``: only if it is theirs) and the pushes it still owes."""
        query = delete(PushSubscription).where(col(PushSubscription.id) == subscription_id)
        if user_id is not None:
            query = query.where(col(PushSubscription.user_id) == user_id)
        removed = bool(getattr(await self.session.execute(query), "rowcount", 0))
        if removed:
            await self._drop_pending(subscription_id)
        return removed

    async def _drop_pending(self, subscription_id: str) -> None:
        await self.session.execute(
            delete(PushOutbox).where(
                col(PushOutbox.subscription_id) == subscription_id, col(PushOutbox.status) == PENDING
            )
        )

    # The outbox ----------------------------------------------------------------------------

    async def enqueue(self, rows: Sequence[PushRow]) -> None:
        """Write pushes; a (subscription, message) pair already written is left as it is."""
        if not rows:
            return
        insert = pg_insert if self._postgres() else sqlite_insert
        values = [
            {
                "id": r.id,
                "subscription_id": r.subscription_id,
                "user_id": r.user_id,
                "message_id": r.message_id,
                "payload": r.payload,
                "status": PENDING,
                "attempts": 0,
                "created_at": r.created_at,
                "next_at": r.created_at,
            }
            for r in rows
        ]
        statement = insert(PushOutbox).values(values)
        await self.session.execute(
            statement.on_conflict_do_nothing(index_elements=["subscription_id", "message_id"])
        )

    async def due(self, now: datetime, lease_until: datetime, limit: int) -> list[DuePush]:
        """Take up to ``limit`` due pushes and lease them; those no longer owed are deleted."""
        owed = and_(
            col(PushSubscription.id).is_not(None),
            col(Message.deleted_at).is_(None),
            col(Membership.read_seq) < col(Message.seq),
        )
        query = (
            select(
                col(PushOutbox.id),
                col(PushOutbox.subscription_id),
                col(PushSubscription.endpoint),
                col(PushSubscription.p256dh),
                col(PushSubscription.auth),
                col(PushOutbox.payload),
                col(PushOutbox.attempts),
                col(PushOutbox.created_at),
                owed.label("owed"),
            )
            .select_from(PushOutbox)
            .outerjoin(PushSubscription, col(PushSubscription.id) == col(PushOutbox.subscription_id))
            .outerjoin(Message, col(Message.id) == col(PushOutbox.message_id))
            .outerjoin(
                Membership,
                and_(
                    col(Membership.topic_id) == col(Message.topic_id),
                    col(Membership.user_id) == col(PushOutbox.user_id),
                ),
            )
            .where(
                col(PushOutbox.status) == PENDING,
                col(PushOutbox.next_at) <= now,
                or_(col(PushOutbox.locked_until).is_(None), col(PushOutbox.locked_until) <= now),
            )
            .order_by(col(PushOutbox.next_at))
            .limit(limit)
            .with_for_update(skip_locked=True, of=PushOutbox)
        )
        rows = list(await self.session.execute(query))
        dropped = [row.id for row in rows if not row.owed]
        taken = [DuePush(*row[:-1]) for row in rows if row.owed]
        if dropped:
            await self.session.execute(delete(PushOutbox).where(col(PushOutbox.id).in_(dropped)))
        if taken:
            await self.session.execute(
                update(PushOutbox)
                .where(col(PushOutbox.id).in_([push.id for push in taken]))
                .values(locked_until=lease_until)
            )
        return taken

    async def release_leases(self) -> None:
        """SQLite's one worker starts: leases a killed process left are void."""
        await self.session.execute(
            update(PushOutbox).where(col(PushOutbox.status) == PENDING).values(locked_until=None)
        )

    async def attempted(self, push_id: str, status: str, next_at: datetime | None) -> None:
        """Record an attempt: ``ok``, ``failed``, or ``pending`` again at ``next_at``."""
        values: dict[str, object] = {
            "status": status,
            "attempts": col(PushOutbox.attempts) + 1,
            "locked_until": None,
        }
        if next_at is not None:
            values["next_at"] = next_at
        await self.session.execute(update(PushOutbox).where(col(PushOutbox.id) == push_id).values(**values))

    async def finished(self, push_ids: Sequence[str], status: str) -> None:
        """Record the last attempt of each of ``push_ids``: ``ok`` or ``failed``."""
        await self.session.execute(
            update(PushOutbox)
            .where(col(PushOutbox.id).in_(list(push_ids)))
            .values(status=status, attempts=col(PushOutbox.attempts) + 1, locked_until=None)
        )

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` finished pushes written before ``before``; how many went."""
        finished = (
            select(col(PushOutbox.id))
            .where(col(PushOutbox.status).in_((OK, FAILED)), col(PushOutbox.created_at) < before)
            .limit(limit)
        )
        ids = list((await self.session.execute(finished)).scalars())
        if ids:
            await self.session.execute(delete(PushOutbox).where(col(PushOutbox.id).in_(ids)))
        return len(ids)
