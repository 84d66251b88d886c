"""Repositories: queries and row changes, never a commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.memberships import MembershipRepository
from db.repositories.messages import MessageRepository
from db.repositories.topics import TopicRepository
from db.repositories.transcripts import TranscriptRepository
from db.repositories.users import UserRepository


class Repositories:
    """Every repository bound to one session (one transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.topics = TopicRepository(session)
        self.memberships = MembershipRepository(session)
        self.messages = MessageRepository(session)
        self.transcripts = TranscriptRepository(session)


__all__ = ["Repositories"]
