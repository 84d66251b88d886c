"""The access rules' tables: bans from a topic and blocks between users (PROTOCOL.md section 10)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Text,
)
from sqlmodel import Field, SQLModel


class Ban(SQLModel, table=True):
    """A user banned from a topic: refused subscribe and invite until unbanned or ``until`` passes."""

    __tablename__ = "bans"

    topic_id: int = Field(primary_key=True)
    user_id: int = Field(primary_key=True)
    banned_by: int
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class Block(SQLModel, table=True):
    """``user_id`` blocked ``blocked_id`` (PROTOCOL.md section 10, blocking)."""

    __tablename__ = "blocks"
    __table_args__ = (Index("ix_blocks_blocked_id", "blocked_id"),)

    user_id: int = Field(primary_key=True)
    blocked_id: int = Field(primary_key=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
