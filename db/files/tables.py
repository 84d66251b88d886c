"""The files' table: uploads (PROTOCOL.md section 11)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    text,
)
from sqlmodel import Field, SQLModel


class File(SQLModel, table=True):
    """An upload (PROTOCOL.md section 11): its blob is ``sha256`` in the file store, shared by every
    row of the same bytes; ``message_id`` is set once, by the send that attaches it."""

    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_uploader", "uploader_id", "created_at"),
        Index("ix_files_message", "message_id"),
        Index("ix_files_sha256", "sha256"),
    )

    id: str = Field(primary_key=True, max_length=32)
    uploader_id: int
    name: str = Field(max_length=255)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    content_type: str = Field(max_length=127)
    sha256: str = Field(max_length=64)
    width: int | None = None
    height: int | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # PROTOCOL.md section 14: set once the file became its uploader's avatar, and kept when it is
    # replaced (never swept); readable by every signed-in user only while it is the avatar.
    avatar: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
