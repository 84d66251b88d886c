"""Sessions that last and password resets (PROTOCOL.md section 19): their tables, records and
repository.

A session is one sign-in of one device: its public id (in the access token's ``sid`` claim and in
``GET /api/users/me/sessions``), when it began and was last used, the device's user agent and
address, when it expires (``PARLEY_SESSION_DAYS`` after its last use) and whether it was ended
(``revoked_at``). Its refresh cookie (``<id>.<generation>.<secret>``) turns over at every use:
only the SHA-256 of the current secret is kept (``secret_hash``), and of the one just replaced
(``previous_hash``, with ``rotated_at``: two tabs refreshing at once with the same cookie).
A turn is a compare-and-set on ``generation``: of two refreshes racing with the same cookie, on
any node, one turns it and the other finds the generation moved on.

A password reset is a one-time code (only its SHA-256), taken once like single sign-on's login
codes (``db/accounts/sso.py``): read, then deleted, and only the transaction whose delete removed
the row has it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    column,
    delete,
    func,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from db.times import utc
from db.values import flush

USER_AGENT_CHARS = 256  # what a session keeps of a device's User-Agent
ADDRESS_CHARS = 64  # an IPv6 address with its zone fits
# Section 15's addresses, read by name: the notifications' tables sit above the accounts' floor.
PREFS = table(
    "notification_prefs",
    column("user_id", Integer),
    column("email_address", String),
    column("email_verified_at", DateTime(timezone=True)),
)


class UserSession(SQLModel, table=True):
    """A sign-in that lasts (PROTOCOL.md section 19)."""

    __tablename__ = "user_sessions"
    __table_args__ = (
        Index("ix_user_sessions_user", "user_id"),
        Index("ix_user_sessions_expires", "expires_at"),
    )

    id: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_used_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    user_agent: str = Field(default="", sa_column=Column(String(USER_AGENT_CHARS), nullable=False))
    address: str = Field(default="", sa_column=Column(String(ADDRESS_CHARS), nullable=False))
    generation: int = Field(sa_column=Column(Integer, nullable=False))
    secret_hash: str = Field(sa_column=Column(String(64), nullable=False))
    previous_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    rotated_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class PasswordReset(SQLModel, table=True):
    """A mailed password reset link's code (30 minutes, once): only its SHA-256."""

    __tablename__ = "password_resets"
    __table_args__ = (Index("ix_password_resets_user", "user_id"),)

    code_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user_id: int
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    user_agent: str
    address: str
    generation: int
    secret_hash: str
    previous_hash: str | None
    rotated_at: datetime | None


def _record(row: UserSession) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        user_id=row.user_id,
        created_at=utc(row.created_at),
        last_used_at=utc(row.last_used_at),
        expires_at=utc(row.expires_at),
        revoked_at=None if row.revoked_at is None else utc(row.revoked_at),
        user_agent=row.user_agent,
        address=row.address,
        generation=row.generation,
        secret_hash=row.secret_hash,
        previous_hash=row.previous_hash,
        rotated_at=None if row.rotated_at is None else utc(row.rotated_at),
    )


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, record: SessionRecord) -> None:
        self.session.add(
            UserSession(
                id=record.id,
                user_id=record.user_id,
                created_at=record.created_at,
                last_used_at=record.last_used_at,
                expires_at=record.expires_at,
                user_agent=record.user_agent[:USER_AGENT_CHARS],
                address=record.address[:ADDRESS_CHARS],
                generation=record.generation,
                secret_hash=record.secret_hash,
            )
        )
        await flush(self.session)

    async def get(self, session_id: str) -> SessionRecord | None:
        row = (
            await self.session.execute(select(UserSession).where(col(UserSession.id) == session_id))
        ).scalar()
        return None if row is None else _record(row)

    async def rotate(
        self, session_id: str, generation: int, secret_hash: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Turn the session's cookie over from ``generation`` to the next, whose secret hashes to
        ``secret_hash``, unless someone turned it first or it was ended (False then)."""
        result = await self.session.execute(
            update(UserSession)
            .where(
                col(UserSession.id) == session_id,
                col(UserSession.generation) == generation,
                col(UserSession.revoked_at).is_(None),
            )
            .values(
                generation=generation + 1,
                previous_hash=col(UserSession.secret_hash),
                secret_hash=secret_hash,
                rotated_at=now,
                last_used_at=now,
                expires_at=expires_at,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke(self, session_id: str, now: datetime, user_id: int | None = None) -> int | None:
        """End a live session (of ``user_id`` when given): its user, or None when there was none
        to end (unknown, another user's, or ended already)."""
        query = update(UserSession).where(
            col(UserSession.id) == session_id, col(UserSession.revoked_at).is_(None)
        )
        if user_id is not None:
            query = query.where(col(UserSession.user_id) == user_id)
        result = await self.session.execute(query.values(revoked_at=now).returning(col(UserSession.user_id)))
        found = result.scalar()
        return None if found is None else int(found)

    async def revoke_all(self, user_id: int, now: datetime, keep: str | None = None) -> list[str]:
        """End every session of the user still open (but ``keep``): their ids."""
        query = update(UserSession).where(
            col(UserSession.user_id) == user_id,
            col(UserSession.revoked_at).is_(None),
            col(UserSession.expires_at) > now,
        )
        if keep is not None:
            query = query.where(col(UserSession.id) != keep)
        result = await self.session.execute(query.values(revoked_at=now).returning(col(UserSession.id)))
        return [str(found) for found in result.scalars()]

    async def live_of(self, user_id: int, now: datetime) -> list[SessionRecord]:
        """The user's open sessions, the last used first."""
        result = await self.session.execute(
            select(UserSession)
            .where(
                col(UserSession.user_id) == user_id,
                col(UserSession.revoked_at).is_(None),
                col(UserSession.expires_at) > now,
            )
            .order_by(col(UserSession.last_used_at).desc(), col(UserSession.id))
        )
        return [_record(row) for row in result.scalars()]

    async def not_ended(self, session_ids: Collection[str]) -> set[str]:
        """Those of ``session_ids`` that are sessions not signed out (expired ones too: their access
        tokens last their own lifetime)."""
        if not session_ids:
            return set()
        query = select(col(UserSession.id)).where(
            col(UserSession.id).in_(session_ids), col(UserSession.revoked_at).is_(None)
        )
        return {str(found) for found in (await self.session.execute(query)).scalars()}

    async def revoked_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """Sessions ended at or after ``since``: their ids and when (access tokens issued before
        may still be current)."""
        result = await self.session.execute(
            select(col(UserSession.id), col(UserSession.revoked_at)).where(
                col(UserSession.revoked_at) >= since
            )
        )
        return [(str(found), utc(when)) for found, when in result.all() if when is not None]

    async def prune(self, before: datetime, limit: int) -> int:
        """Forget up to ``limit`` sessions that expired, or were ended, before ``before``."""
        stale = (
            select(col(UserSession.id))
            .where(or_(col(UserSession.expires_at) < before, col(UserSession.revoked_at) < before))
            .limit(limit)
        )
        ids = [row[0] for row in (await self.session.execute(stale)).all()]
        if ids:
            await self.session.execute(delete(UserSession).where(col(UserSession.id).in_(ids)))
        return len(ids)

    # Password resets ---------------------------------------------------------------------------

    async def user_of_email(self, address: str) -> int | None:
        """The account whose verified notification address is ``address`` (any case), if one."""
        result = await self.session.execute(
            select(PREFS.c.user_id)
            .where(
                func.lower(PREFS.c.email_address) == address.lower(),
                PREFS.c.email_verified_at.isnot(None),
            )
            .limit(1)
        )
        found = result.scalar()
        return None if found is None else int(found)

    async def verified_email(self, user_id: int) -> str | None:
        """The user's verified notification address (PROTOCOL.md section 15), if one."""
        result = await self.session.execute(
            select(PREFS.c.email_address).where(
                PREFS.c.user_id == user_id,
                PREFS.c.email_verified_at.isnot(None),
            )
        )
        found = result.scalar()
        return None if not found else str(found)

    async def add_reset(self, code_hash: str, user_id: int, now: datetime, expires_at: datetime) -> None:
        self.session.add(
            PasswordReset(code_hash=code_hash, user_id=user_id, created_at=now, expires_at=expires_at)
        )
        await flush(self.session)

    async def take_reset(self, code_hash: str) -> tuple[int, datetime] | None:
        """The user and expiry of a reset code, deleted: None if unknown or already taken."""
        row = await self.session.get(PasswordReset, code_hash)
        if row is None:
            return None
        taken = (row.user_id, utc(row.expires_at))
        gone = await self.session.execute(
            delete(PasswordReset).where(col(PasswordReset.code_hash) == code_hash)
        )
        return taken if getattr(gone, "rowcount", 0) == 1 else None

    async def drop_resets(self, user_id: int) -> None:
        """Void the user's other reset links (the password was just set)."""
        await self.session.execute(delete(PasswordReset).where(col(PasswordReset.user_id) == user_id))

    async def prune_resets(self, before: datetime, limit: int) -> int:
        stale = (
            select(col(PasswordReset.code_hash)).where(col(PasswordReset.expires_at) < before).limit(limit)
        )
        hashes = [row[0] for row in (await self.session.execute(stale)).all()]
        if hashes:
            await self.session.execute(delete(PasswordReset).where(col(PasswordReset.code_hash).in_(hashes)))
        return len(hashes)
