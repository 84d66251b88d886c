"""The workspace's tables (PROTOCOL.md section 19): its settings, one row per key, and invites."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, String
from sqlmodel import Field, SQLModel


class WorkspaceSetting(SQLModel, table=True):
    """One setting an admin set (``registration``, ``allowed_domains``, ``members_invite``): a key
    without a row has the server's default (``PARLEY_REGISTRATION`` for the registration)."""

    __tablename__ = "workspace_settings"

    key: str = Field(sa_column=Column(String(32), primary_key=True))
    value: Any = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Invite(SQLModel, table=True):
    """An invitation to join: only the SHA-256 of its code is kept (``code_hash``). ``uses`` counts
    the accounts made with it, up to ``max_uses``; ``user_id`` is the account an admin made for it
    (``POST /api/admin/users`` without a password), whose password its one use sets."""

    __tablename__ = "invites"
    __table_args__ = (Index("ix_invites_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_by: int | None = Field(default=None)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    max_uses: int
    uses: int = Field(default=0)
    email: str | None = Field(default=None, max_length=254)
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    user_id: int | None = Field(default=None)
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
