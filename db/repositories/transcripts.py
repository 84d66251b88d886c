"""Echo transcripts, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import EchoTranscript


class TranscriptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, transcript: EchoTranscript) -> EchoTranscript:
        self.session.add(transcript)
        await self.session.flush()
        return transcript

    async def of_user(self, user_id: int, offset: int, limit: int) -> Sequence[EchoTranscript]:
        result = await self.session.execute(
            select(EchoTranscript)
            .where(col(EchoTranscript.user_id) == user_id)
            .order_by(col(EchoTranscript.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return result.scalars().all()
