"""Server keys (PROTOCOL.md section 17): stored hashed, revoked in place. A lookup hashes what the
caller sent and looks for that among the keys not revoked."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.backends.records import ServerKeyRecord
from db.backends.tables import ServerKeyRow
from db.values import flush

_COLUMNS = (
    col(ServerKeyRow.id),
    col(ServerKeyRow.label),
    col(ServerKeyRow.scopes),
    col(ServerKeyRow.bot_id),
    col(User.username),
    col(ServerKeyRow.created_at),
    col(ServerKeyRow.revoked_at),
)


class ServerKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        key_id: str,
        label: str,
        key_hash: str,
        scopes: Iterable[str],
        bot_id: int,
        created_by: int | None,
        now: datetime,
    ) -> None:
        """Raises ``db.errors.Conflict`` if the id or the hash is taken (never in practice)."""
        self.session.add(
            ServerKeyRow(
                id=key_id,
                label=label,
                key_hash=key_hash,
                scopes=",".join(sorted(scopes)),
                bot_id=bot_id,
                created_by=created_by,
                created_at=now,
            )
        )
        await flush(self.session)

    async def by_hash(self, key_hash: str) -> ServerKeyRecord | None:
        """The live key of that hash (None: unknown or revoked)."""
        query = (
            select(*_COLUMNS)
            .join(User, col(User.id) == col(ServerKeyRow.bot_id))
            .where(col(ServerKeyRow.key_hash) == key_hash, col(ServerKeyRow.revoked_at).is_(None))
        )
        row = (await self.session.execute(query)).first()
        return None if row is None else _record(row)

    async def listed(self, revoked: bool = False) -> list[ServerKeyRecord]:
        """The keys not revoked (every key with ``revoked``), oldest first."""
        query = select(*_COLUMNS).join(User, col(User.id) == col(ServerKeyRow.bot_id))
        if not revoked:
            query = query.where(col(ServerKeyRow.revoked_at).is_(None))
        rows = (
            await self.session.execute(query.order_by(col(ServerKeyRow.created_at), col(ServerKeyRow.id)))
        ).all()
        return [_record(row) for row in rows]

    async def by_id(self, key_id: str) -> ServerKeyRecord | None:
        query = (
            select(*_COLUMNS)
            .join(User, col(User.id) == col(ServerKeyRow.bot_id))
            .where(col(ServerKeyRow.id) == key_id)
        )
        row = (await self.session.execute(query)).first()
        return None if row is None else _record(row)

    async def revoke(self, key_id: str, now: datetime) -> bool:
        """True when a live key was revoked."""
        result = await self.session.execute(
            update(ServerKeyRow)
            .where(col(ServerKeyRow.id) == key_id, col(ServerKeyRow.revoked_at).is_(None))
            .values(revoked_at=now)
        )
        return bool(getattr(result, "rowcount", 0))


def _record(row: Any) -> ServerKeyRecord:
    key_id, label, scopes, bot_id, bot_name, created_at, revoked_at = row
    return ServerKeyRecord(
        key_id,
        label,
        tuple(scope for scope in scopes.split(",") if scope),
        bot_id,
        bot_name,
        created_at,
        revoked_at,
    )
