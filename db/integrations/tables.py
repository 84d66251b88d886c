"""The integrations' tables (PROTOCOL.md section 12): bots' API tokens, incoming webhooks (hooks),
outgoing webhooks, their outbox and their delivery log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Text,
    text,
)
from sqlmodel import Field, SQLModel


class BotToken(SQLModel, table=True):
    """A bot's API token (PROTOCOL.md section 12): only its SHA-256 is kept; revoked ones stay."""

    __tablename__ = "bot_tokens"
    __table_args__ = (Index("ix_bot_tokens_user_id", "user_id"),)

    id: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="users.id")
    label: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Hook(SQLModel, table=True):
    """An incoming webhook of a topic: whoever has its URL posts as ``bot_id`` (section 12). Only
    the SHA-256 of the URL's secret is kept; a revoked hook stays, with ``revoked_at``."""

    __tablename__ = "hooks"
    __table_args__ = (Index("ix_hooks_topic_id", "topic_id"),)

    id: str = Field(primary_key=True, max_length=32)
    topic_id: int
    bot_id: int = Field(foreign_key="users.id")
    secret_hash: str = Field(max_length=64, unique=True)
    created_by: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    bot_made: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )


class Webhook(SQLModel, table=True):
    """An outgoing webhook of a topic (PROTOCOL.md section 12). ``secret`` is kept: it signs every
    delivery. ``bot_id`` is the bot its answers are posted as (null until bot accounts exist)."""

    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_topic_id", "topic_id"),)

    id: str = Field(primary_key=True, max_length=32)
    topic_id: int
    url: str = Field(max_length=2048)
    events: list[str] = Field(sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=256)
    bot_id: int | None = Field(default=None)
    created_by: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    removed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class WebhookOutbox(SQLModel, table=True):
    """A delivery to make: written in the transaction of the event it tells, so a crash loses none.
    ``id`` is the delivery id (``X-Parley-Delivery``); ``body`` the exact bytes that are signed."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (Index("ix_webhook_outbox_due", "status", "next_at"),)

    id: str = Field(primary_key=True, max_length=32)
    webhook_id: str = Field(max_length=32)
    event: str = Field(max_length=16)
    body: str = Field(sa_column=Column(Text, nullable=False))
    trigger_message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    attempts: int = Field(default=0)
    next_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(max_length=8)
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One attempt at a delivery, for the webhook's delivery log (the newest 100 are listed)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: str = Field(max_length=32)
    webhook_id: str = Field(max_length=32)
    event: str = Field(max_length=16)
    attempt: int
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(max_length=8)
    code: int | None = Field(default=None)
