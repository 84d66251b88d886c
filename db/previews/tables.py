"""The link previews' tables (PROTOCOL.md section 13): the jobs, the cache of one preview per URL,
the re-encoded pictures and which messages show them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Text,
)
from sqlmodel import Field, SQLModel


class PreviewJob(SQLModel, table=True):
    """A message whose previews must be made again or later (PROTOCOL.md section 13): an edit's new
    links (written in the edit's transaction), a retry, or on PostgreSQL the lease of the node
    working on a new message (a new message waits in ``ix_messages_previews_waiting``, no row);
    a worker holds it while ``locked_until``."""

    __tablename__ = "preview_jobs"
    __table_args__ = (Index("ix_preview_jobs_due", "due_at"),)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    attempts: int = Field(default=0)


class LinkPreview(SQLModel, table=True):
    """The preview of one URL, cached for ``PARLEY_PREVIEW_TTL`` and shared by every message and
    node: ``state`` is ``fetching`` while one worker holds it (until ``locked_until``), ``ready``
    or ``none`` (no preview) until ``expires_at``. Keyed by the URL's SHA-256: a URL may be longer
    than an index entry may be."""

    __tablename__ = "link_previews"

    id: int | None = Field(default=None, primary_key=True)
    url_hash: str = Field(max_length=64, unique=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=8)
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    site_name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    image_id: int | None = Field(default=None)
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class PreviewImage(SQLModel, table=True):
    """A preview's picture as Parley re-encoded it; never changed (a refetch makes a new one), so a
    message keeps the picture it was shown with."""

    __tablename__ = "preview_images"

    id: int | None = Field(default=None, primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content_type: str = Field(max_length=16)
    width: int
    height: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class MessagePreviewImage(SQLModel, table=True):
    """Which messages show which preview picture: who may read a picture is who may read one of them."""

    __tablename__ = "message_preview_images"
    __table_args__ = (Index("ix_message_preview_images_image", "image_id"),)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    image_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
