"""Bots and their API tokens (PROTOCOL.md section 12): stored hashed, revoked in place.

A token is never stored, only its SHA-256 (hex): a lookup hashes what the
caller sent and looks for that. Revoking sets ``revoked_at``; a revoked row matches no lookup.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.records import UserRecord
from db.accounts.tables import User
from db.accounts.values import user_record
from db.integrations.records import BotTokenRecord
from db.integrations.tables import BotToken
from db.values import flush


class BotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def owned_by(self, owner_id: int) -> list[UserRecord]:
        """The bots ``owner_id`` made that are neither disabled nor deleted, oldest first."""
        query = (
            select(User)
            .where(col(User.owner_id) == owner_id, col(User.bot).is_(True))
            .where(col(User.disabled_at).is_(None), col(User.deleted_at).is_(None))
            .order_by(col(User.id))
        )
        return [user_record(user) for user in (await self.session.execute(query)).scalars()]

    async def all(self) -> list[UserRecord]:
        """Every bot that was not deleted, oldest first (``parley bot list``)."""
        query = (
            select(User).where(col(User.bot).is_(True), col(User.deleted_at).is_(None)).order_by(col(User.id))
        )
        return [user_record(user) for user in (await self.session.execute(query)).scalars()]

    # Tokens -------------------------------------------------------------------------

    async def add_token(
        self, token_id: str, user_id: int, label: str, token_hash: str, created_at: datetime
    ) -> BotTokenRecord:
        row = BotToken(
            id=token_id, user_id=user_id, label=label, token_hash=token_hash, created_at=created_at
        )
        self.session.add(row)
        await flush(self.session)
        return _token(row)

    async def tokens_of(self, user_id: int) -> list[BotTokenRecord]:
        """The bot's tokens not revoked, oldest first."""
        query = (
            select(BotToken)
            .where(col(BotToken.user_id) == user_id, col(BotToken.revoked_at).is_(None))
            .order_by(col(BotToken.created_at), col(BotToken.id))
        )
        return [_token(row) for row in (await self.session.execute(query)).scalars()]

    async def live_token_ids(self, token_ids: Collection[str]) -> set[str]:
        """Those of ``token_ids`` that are tokens not revoked."""
        if not token_ids:
            return set()
        query = select(col(BotToken.id)).where(
            col(BotToken.id).in_(token_ids), col(BotToken.revoked_at).is_(None)
        )
        return {str(found) for found in (await self.session.execute(query)).scalars()}

    async def token_by_hash(self, token_hash: str) -> BotTokenRecord | None:
        """The token not revoked whose SHA-256 is ``token_hash``."""
        query = select(BotToken).where(
            col(BotToken.token_hash) == token_hash, col(BotToken.revoked_at).is_(None)
        )
        row = (await self.session.execute(query)).scalar_one_or_none()
        return None if row is None else _token(row)

    async def revoke_token(self, user_id: int, token_id: str, when: datetime) -> bool:
        """Revoke one of the bot's tokens; False if it has no such token not revoked yet."""
        result = await self.session.execute(
            update(BotToken)
            .where(col(BotToken.id) == token_id, col(BotToken.user_id) == user_id)
            .where(col(BotToken.revoked_at).is_(None))
            .values(revoked_at=when)
        )
        return bool(getattr(result, "rowcount", 0))

    async def revoke_tokens(self, user_id: int, when: datetime) -> list[str]:
        """Revoke every token of the bot; the ids revoked."""
        ids = [token.id for token in await self.tokens_of(user_id)]
        if ids:
            await self.session.execute(
                update(BotToken).where(col(BotToken.id).in_(ids)).values(revoked_at=when)
            )
        return ids


def _token(row: BotToken) -> BotTokenRecord:
    return BotTokenRecord(row.id, row.user_id, row.label, row.created_at, row.revoked_at)
