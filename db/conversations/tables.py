"""The conversations' tables: topics, memberships, messages and what hangs on a message (reactions,
mentions, pins). Every capability reads these; conversations owns them (DESIGN.md "Data model").

A topic's name is matched case-insensitively but stored as given: ``name_key`` holds it
lower-cased, with the unique constraint (the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


class Topic(SQLModel, table=True):
    __tablename__ = "topics"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=80, unique=True)
    kind: str = Field(max_length=8)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seq: int = Field(default=0)
    # Moderation (PROTOCOL.md section 10): what ``topic:update`` sets, and when it was archived.
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    archived_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Retention (PROTOCOL.md section 16): days its messages are kept (None: the server's setting).
    retention_days: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_user_id", "user_id"),)

    topic_id: int = Field(foreign_key="topics.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    role: str = Field(default="member", max_length=16)  # owner, admin, moderator or member
    joined_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    delivered_seq: int = Field(default=0)
    read_seq: int = Field(default=0)
    # PROTOCOL.md section 8: ``all``, ``mentions`` or ``none`` (badges and outgoing notifications).
    notify_level: str = Field(
        default="all", sa_column=Column(String(8), nullable=False, server_default="all")
    )
    # A mute (PROTOCOL.md section 10): since when, and until when (None: until unmuted).
    muted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    muted_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("topic_id", "seq", name="uq_messages_topic_seq"),
        UniqueConstraint("sender_id", "client_id", name="uq_messages_sender_client"),
        # Most messages quote nothing and start no thread: only the rows that do are indexed (0014).
        Index(
            "ix_messages_reply_to_id",
            "reply_to_id",
            sqlite_where=text("reply_to_id IS NOT NULL"),
            postgresql_where=text("reply_to_id IS NOT NULL"),
        ),
        Index(
            "ix_messages_thread",
            "thread_root_id",
            "id",
            sqlite_where=text("thread_root_id IS NOT NULL"),
            postgresql_where=text("thread_root_id IS NOT NULL"),
        ),
        # Messages whose link previews are still to be made (PROTOCOL.md section 13): the previews'
        # queue is this index (0024); a message leaves it when its previews (``[]`` for none) are kept.
        Index(
            "ix_messages_previews_waiting",
            "id",
            sqlite_where=text("links IS NOT NULL AND previews IS NULL"),
            postgresql_where=text("links IS NOT NULL AND previews IS NULL"),
        ),
        # Search results come newest first (PROTOCOL.md section 9). The full-text index itself is
        # not declared here: ``db/search/`` and migration 0008 own it.
        Index("ix_messages_created", "created_at", "id"),
        # Unread and mention counts skip system messages and add ``@all`` ones: both are rare, so
        # partial indexes keep those counts to the few rows that are either.
        Index(
            "ix_messages_system",
            "topic_id",
            "seq",
            sqlite_where=text("type = 'system'"),
            postgresql_where=text("type = 'system'"),
        ),
        Index(
            "ix_messages_mentions_all",
            "topic_id",
            "seq",
            sqlite_where=text("mentions_all"),
            postgresql_where=text("mentions_all"),
        ),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
    topic_id: int = Field(foreign_key="topics.id")
    seq: int
    sender_id: int = Field(foreign_key="users.id")
    body: str
    client_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Conversations (PROTOCOL.md section 8). What a Message shows is kept on its row, so every
    # rendering (ack, live, backlog, recovery, history) reads one row and joins nothing:
    # ``reply_to`` is the quote as JSON (its excerpt is rewritten when the quoted message is
    # edited or deleted), the thread summary is kept on the root in the transaction of each
    # reply, edit or delete, ``reactions`` mirrors the reactions table in reaction order.
    reply_to_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    reply_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    thread_root_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    thread_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    thread_last_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    thread_participants: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    mentions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    mentions_all: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    reactions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    pinned: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    type: str = Field(default="text", sa_column=Column(String(8), nullable=False, server_default="text"))
    system: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Copied from the sender at insert (PROTOCOL.md section 12), so no rendering joins users for it.
    bot: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    # PROTOCOL.md section 11: the attached files' File objects as JSON (``db/conversations/extras.py``).
    files: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # PROTOCOL.md section 13: the body's links and their previews as rendered, both JSON; the
    # previews capability writes ``previews``; ``previews_off`` once the sender removed them.
    links: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previews: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previews_off: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )


class Reaction(SQLModel, table=True):
    """One user's reaction with one emoji to one message (adding it twice stores it once)."""

    __tablename__ = "reactions"
    __table_args__ = (Index("ix_reactions_user", "user_id"),)  # an erasure's (PROTOCOL.md section 16)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    emoji: str = Field(sa_column=Column(String(32), primary_key=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Mention(SQLModel, table=True):
    """A member a message mentions by name, for the mention count above a read mark."""

    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_user_topic_seq", "user_id", "topic_id", "seq"),)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    user_id: int = Field(primary_key=True)
    topic_id: int
    seq: int


class Pin(SQLModel, table=True):
    """A pinned message of a topic (at most 50 per topic)."""

    __tablename__ = "pins"

    topic_id: int = Field(primary_key=True)
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    pinned_by: int
    pinned_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
