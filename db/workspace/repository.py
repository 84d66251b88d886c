"""The workspace's settings and invites (PROTOCOL.md section 19). An invite's use is counted by one
conditional ``UPDATE`` in the caller's transaction (the new account's): of two sign-ups racing for
the last use, one updates the row and the other finds nothing to update."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.times import utc
from db.values import flush, stored_id
from db.workspace.records import InviteRecord
from db.workspace.tables import Invite, WorkspaceSetting


class WorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def settings(self) -> dict[str, Any]:
        """The settings an admin stored, by key (a missing key has the server's default)."""
        result = await self.session.execute(select(col(WorkspaceSetting.key), col(WorkspaceSetting.value)))
        return {str(key): value for key, value in result.all()}

    async def store(self, values: dict[str, Any], now: datetime) -> None:
        """Insert or replace each key's value."""
        if not values:
            return
        postgres = self.session.get_bind().dialect.name == "postgresql"
        insert = pg_insert if postgres else sqlite_insert
        for key, value in values.items():
            statement = insert(WorkspaceSetting).values(key=key, value=value, updated_at=now)
            await self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["key"], set_={"value": value, "updated_at": now}
                )
            )

    async def add_invite(
        self,
        code_hash: str,
        created_by: int | None,
        now: datetime,
        expires_at: datetime,
        max_uses: int,
        email: str | None,
        topics: list[str],
        user_id: int | None = None,
    ) -> InviteRecord:
        row = Invite(
            code_hash=code_hash,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
            max_uses=max_uses,
            email=email,
            topics=topics,
            user_id=user_id,
        )
        self.session.add(row)
        await flush(self.session)
        return _record(row)

    async def invite_by_hash(self, code_hash: str) -> InviteRecord | None:
        row = (await self.session.execute(select(Invite).where(col(Invite.code_hash) == code_hash))).scalar()
        return None if row is None else _record(row)

    async def invite(self, invite_id: int) -> InviteRecord | None:
        row = await self.session.get(Invite, invite_id)
        return None if row is None else _record(row)

    async def use(self, invite_id: int, now: datetime) -> bool:
        """Count one use if the invite is still usable; False when it is not (any more)."""
        result = await self.session.execute(
            update(Invite)
            .where(
                col(Invite.id) == invite_id,
                col(Invite.uses) < col(Invite.max_uses),
                col(Invite.revoked_at).is_(None),
                col(Invite.expires_at) > now,
            )
            .values(uses=col(Invite.uses) + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def invites(self, created_by: int | None = None, limit: int = 500) -> list[InviteRecord]:
        """Newest first; ``created_by``: only that user's."""
        query = select(Invite).order_by(col(Invite.created_at).desc(), col(Invite.id).desc()).limit(limit)
        if created_by is not None:
            query = query.where(col(Invite.created_by) == created_by)
        return [_record(row) for row in (await self.session.execute(query)).scalars().all()]

    async def revoke(self, invite_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Invite)
            .where(col(Invite.id) == invite_id, col(Invite.revoked_at).is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )


def _record(row: Invite) -> InviteRecord:
    return InviteRecord(
        id=stored_id(row.id),
        created_by=row.created_by,
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        max_uses=row.max_uses,
        uses=row.uses,
        email=row.email,
        topics=tuple(row.topics or ()),
        user_id=row.user_id,
        revoked_at=None if row.revoked_at is None else utc(row.revoked_at),
    )
