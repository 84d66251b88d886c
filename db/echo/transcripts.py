"""Echo transcripts, newest first.

A transcript's ``lines`` go in and come out as the JSON text the echo session wrote (a JSON
column, read with a cast to text): a page of large transcripts is never turned into one Python
object per line, on the way in or out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Text, cast, insert, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.echo.tables import EchoTranscript
from db.values import stored_id

TranscriptRow = tuple[int, datetime, datetime, str]  # id, started_at, ended_at, lines as JSON text


class TranscriptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: int, started_at: datetime, ended_at: datetime, lines_json: str) -> None:
        """Store a transcript whose ``lines`` are already a JSON array (stored as is: sent as text,
        which PostgreSQL's ``json`` column takes only through a cast and SQLite stores as it is)."""
        lines: ColumnElement[Any] = type_coerce(lines_json, Text)
        if self.session.get_bind().dialect.name == "postgresql":
            lines = cast(lines, JSON)
        values = {"user_id": user_id, "started_at": started_at, "ended_at": ended_at, "lines": lines}
        await self.session.execute(insert(EchoTranscript).values(**values))

    async def page_of_user(self, user_id: int, before: int | None, limit: int) -> Sequence[TranscriptRow]:
        """The user's transcripts with an id below ``before`` (all when None), newest first."""
        query = select(
            col(EchoTranscript.id),
            col(EchoTranscript.started_at),
            col(EchoTranscript.ended_at),
            cast(col(EchoTranscript.lines), Text),
        ).where(col(EchoTranscript.user_id) == user_id)
        if before is not None:
            query = query.where(col(EchoTranscript.id) < before)
        result = await self.session.execute(query.order_by(col(EchoTranscript.id).desc()).limit(limit))
        return [(stored_id(row[0]), row[1], row[2], row[3]) for row in result.all()]
