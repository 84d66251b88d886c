"""The audit log's table (PROTOCOL.md section 16)."""

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


class AuditEntry(SQLModel, table=True):
    """One audit row (PROTOCOL.md section 16): who did what, on what, where, written in the
    action's own transaction. ``actor_id`` is the user who acted, None for the operator (the
    command line, the Admin UI); ``actor`` is the name as it was then (``actor_key`` lower-cased,
    for the filter). ``topic`` is the topic's name as it was, never a key: rows outlive topics."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at", "id"),
        Index("ix_audit_log_actor", "actor_key", "at"),
        Index("ix_audit_log_action", "action", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor_id: int | None = Field(default=None)
    actor: str = Field(max_length=64)
    actor_key: str = Field(max_length=64)
    action: str = Field(max_length=32)
    target: str | None = Field(default=None, max_length=255)
    topic: str | None = Field(default=None, max_length=255)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
