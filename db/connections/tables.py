"""The connections' table: Socket.IO connection-state recovery sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Index,
)
from sqlmodel import Field, SQLModel


class RecoverySession(SQLModel, table=True):
    """A Socket.IO connection-state recovery session (PROTOCOL.md, "Connection-state recovery").

    ``pid`` is the private session id the client got in its CONNECT reply; ``seen_at`` is when a
    socket of that session was last known open (connect, disconnect, and a periodic refresh).
    """

    __tablename__ = "recovery_session"
    __table_args__ = (Index("ix_recovery_session_seen_at", "seen_at"),)

    pid: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id")
    seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
