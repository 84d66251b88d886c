"""The notifications' tables (PROTOCOL.md section 15): preferences, push subscriptions, the messages
that may notify, the push outbox, the messages waiting for a digest and the mail outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


class NotificationPrefs(SQLModel, table=True):
    """A user's notification preferences and email address (PROTOCOL.md section 15); no row means
    the defaults. ``email_address`` is the address last given: only with ``email_verified_at`` set
    does it get mail. ``email_token`` is the nonce of the verification link last sent (cleared when
    it is used: a link works once, and only the latest one). ``last_digest_at`` spaces digests
    ``email_digest_minutes`` apart."""

    __tablename__ = "notification_prefs"

    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    push: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    email: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    email_digest_minutes: int = Field(default=60)
    quiet_from: str | None = Field(default=None, max_length=5)  # "HH:MM" in the profile's time zone
    quiet_to: str | None = Field(default=None, max_length=5)
    email_address: str | None = Field(default=None, max_length=254)
    email_token: str | None = Field(default=None, max_length=32)
    email_verified_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_digest_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Signed into unsubscribe links and bumped when email is turned back on: older links are void.
    email_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))


class PushSubscription(SQLModel, table=True):
    """A browser's push subscription (RFC 8030): its endpoint and the keys its pushes are encrypted
    for (RFC 8291). One row per endpoint (``endpoint_key``: its SHA-256, an endpoint may be longer
    than an index entry may be): a browser that subscribes again, for whoever, replaces it."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_user", "user_id"),)

    id: str = Field(primary_key=True, max_length=32)
    user_id: int
    endpoint: str = Field(sa_column=Column(Text, nullable=False))
    endpoint_key: str = Field(max_length=64, unique=True)
    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class NotifyJob(SQLModel, table=True):
    """A message that may notify someone (a direct message, or one that mentions): written in its
    send batch's transaction; due ``PARLEY_PUSH_DELAY`` after the send, when the notifier decides
    who gets what. A worker holds it while ``locked_until``."""

    __tablename__ = "notify_jobs"
    __table_args__ = (Index("ix_notify_jobs_due", "due_at"),)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    attempts: int = Field(default=0)


class PushOutbox(SQLModel, table=True):
    """One push to send: a message to one subscription, at most once (the unique pair). ``payload``
    is the JSON before encryption (encrypted afresh at each attempt); ``status`` is ``pending``,
    ``ok`` or ``failed``."""

    __tablename__ = "push_outbox"
    __table_args__ = (
        UniqueConstraint("subscription_id", "message_id", name="uq_push_outbox_subscription_message"),
        Index("ix_push_outbox_due", "status", "next_at"),
        Index("ix_push_outbox_message", "message_id"),  # the retention sweep (0020)
    )

    id: str = Field(primary_key=True, max_length=32)
    subscription_id: str = Field(max_length=32)
    user_id: int
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=8)
    attempts: int = Field(default=0)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    next_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class EmailPending(SQLModel, table=True):
    """A message a user may get in an email digest: due ``PARLEY_EMAIL_DELAY`` after the send; the
    digest takes the user's due rows, drops those read or deleted meanwhile, and removes them."""

    __tablename__ = "email_pending"
    __table_args__ = (
        Index("ix_email_pending_due", "due_at"),
        Index("ix_email_pending_message", "message_id"),  # the retention sweep (0020)
    )

    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class MailOutbox(SQLModel, table=True):
    """One mail to send (a verification or a digest), the whole RFC 5322 message as written, so a
    retry sends the same bytes; ``status`` is ``pending``, ``ok`` or ``failed``."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_at"),)

    id: str = Field(primary_key=True, max_length=32)
    user_id: int | None = Field(default=None)
    kind: str = Field(max_length=8)  # ``verify`` or ``digest``
    to_address: str = Field(max_length=254)
    content: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=8)
    attempts: int = Field(default=0)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    next_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
