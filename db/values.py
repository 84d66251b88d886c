"""What every repository uses: the flush that turns a broken unique constraint into
``db.errors.Conflict``, and a stored row's id."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import conflict_of


async def flush(session: AsyncSession) -> None:
    """Send pending inserts now; ``Conflict`` if one breaks a unique (or primary) key."""
    try:
        await session.flush()
    except IntegrityError as exc:
        conflict = conflict_of(exc)
        if conflict is None:
            raise
        raise conflict from exc


def stored_id(value: int | None) -> int:
    """A primary key read back from the database, never None once a row is stored."""
    if value is None:
        raise ValueError("a stored row has an id")
    return value
