"""Incoming webhooks (PROTOCOL.md section 12): a topic, the bot that posts, the SHA-256 of the
secret in the hook's URL (never the secret). Revoking sets ``revoked_at``; a revoked hook matches
no lookup.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.integrations.records import HookRecord
from db.integrations.tables import Hook
from db.values import flush


class HookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_hook(
        self,
        hook_id: str,
        topic_id: int,
        bot_id: int,
        secret_hash: str,
        created_by: int,
        created_at: datetime,
        bot_made: bool = False,
    ) -> HookRecord:
        row = Hook(
            id=hook_id,
            topic_id=topic_id,
            bot_id=bot_id,
            secret_hash=secret_hash,
            created_by=created_by,
            created_at=created_at,
            bot_made=bot_made,
        )
        self.session.add(row)
        await flush(self.session)
        return _hook(row)

    async def hooks_of(self, topic_id: int) -> list[tuple[HookRecord, str]]:
        """The topic's hooks not revoked, oldest first, each with its bot's name."""
        query = (
            select(Hook, col(User.username))
            .join(User, col(User.id) == col(Hook.bot_id))
            .where(col(Hook.topic_id) == topic_id, col(Hook.revoked_at).is_(None))
            .order_by(col(Hook.created_at), col(Hook.id))
        )
        return [(_hook(row[0]), str(row[1])) for row in (await self.session.execute(query)).all()]

    async def hook_by_hash(self, secret_hash: str) -> HookRecord | None:
        query = select(Hook).where(col(Hook.secret_hash) == secret_hash, col(Hook.revoked_at).is_(None))
        row = (await self.session.execute(query)).scalar_one_or_none()
        return None if row is None else _hook(row)

    async def revoke_hook(self, topic_id: int, hook_id: str, when: datetime) -> bool:
        result = await self.session.execute(
            update(Hook)
            .where(col(Hook.id) == hook_id, col(Hook.topic_id) == topic_id, col(Hook.revoked_at).is_(None))
            .values(revoked_at=when)
        )
        return bool(getattr(result, "rowcount", 0))

    async def hook_of(self, topic_id: int, hook_id: str) -> HookRecord | None:
        """A hook of that topic, revoked or not."""
        query = select(Hook).where(col(Hook.id) == hook_id, col(Hook.topic_id) == topic_id)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return None if row is None else _hook(row)

    async def live_of_bot(self, bot_id: int) -> list[HookRecord]:
        """The hooks not revoked that post as this bot (in any topic)."""
        query = select(Hook).where(col(Hook.bot_id) == bot_id, col(Hook.revoked_at).is_(None))
        return [_hook(row) for row in (await self.session.execute(query)).scalars()]

    async def of_topic(self, topic_id: int) -> list[HookRecord]:
        """Every hook of the topic, revoked or not."""
        query = select(Hook).where(col(Hook.topic_id) == topic_id)
        return [_hook(row) for row in (await self.session.execute(query)).scalars()]

    async def delete_of_topic(self, topic_id: int) -> None:
        """Every hook of a topic being deleted (their URLs answer 404 like unknown ones)."""
        await self.session.execute(delete(Hook).where(col(Hook.topic_id) == topic_id))


def _hook(row: Hook) -> HookRecord:
    return HookRecord(
        row.id, row.topic_id, row.bot_id, row.created_by, row.created_at, row.revoked_at, row.bot_made
    )
