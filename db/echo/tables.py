"""The echo service's table: the transcripts of echo sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
)
from sqlmodel import Field, SQLModel


class EchoTranscript(SQLModel, table=True):
    __tablename__ = "echo_transcripts"
    __table_args__ = (Index("ix_echo_transcripts_user_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
