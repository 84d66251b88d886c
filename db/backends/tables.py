"""Server keys (PROTOCOL.md section 17): one row per key, only its SHA-256 kept.

A key posts as a bot made with it (``bot_id``); its scopes are a comma-separated list of the
section's names. A revoked key stays, with ``revoked_at``, so that the audit log's rows and the
key's bot keep a name to point at.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, String
from sqlmodel import Field, SQLModel


class ServerKeyRow(SQLModel, table=True):
    __tablename__ = "server_keys"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    label: str = Field(sa_column=Column(String(64), nullable=False))
    key_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    scopes: str = Field(sa_column=Column(String(256), nullable=False))
    bot_id: int
    created_by: int | None = Field(default=None)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
