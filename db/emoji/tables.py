"""Custom emoji (PROTOCOL.md section 13): one row per name, with its picture.

The picture is the re-encoded one (at most 128 pixels a side, no metadata, at most a few tens of
KiB), kept in the row itself: every node serves it from the database, with no shared files store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary, String
from sqlmodel import Field, SQLModel


class CustomEmoji(SQLModel, table=True):
    __tablename__ = "custom_emoji"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    content_type: str = Field(sa_column=Column(String(32), nullable=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    width: int
    height: int
    created_by: int | None = Field(default=None)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
