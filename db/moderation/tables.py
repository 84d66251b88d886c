"""Moderation's table: messages reported to the operator (PROTOCOL.md section 10)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Text,
)
from sqlmodel import Field, SQLModel


class Report(SQLModel, table=True):
    """A message reported to the operator (``parley reports``, the Admin UI)."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_created_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
