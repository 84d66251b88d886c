"""Stored times made aware: the one reading of a time the database gives back.

Every time is written in UTC. asyncpg gives it back with its zone; SQLite gives back a naive
datetime through the ORM and ISO text through raw SQL (SQLAlchemy's own format). A time compared
with ``datetime.now(UTC)`` or rendered with a ``Z`` must be aware first, whichever database it
came from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def utc(stored: datetime | str) -> datetime: ...
@overload
def utc(stored: None) -> None: ...
def utc(stored: datetime | str | None) -> datetime | None:
    """``stored`` as an aware UTC datetime (None stays None)."""
    if stored is None:
        return None
    if isinstance(stored, str):
        stored = datetime.fromisoformat(stored)
    return stored if stored.tzinfo is not None else stored.replace(tzinfo=UTC)
