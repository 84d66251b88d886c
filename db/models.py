"""SQLModel tables (DESIGN.md "Data model").

Names are matched case-insensitively but stored as given: each such table
keeps a lower-cased ``*_key`` column with the unique constraint, which works
the same on SQLite and PostgreSQL without expression indexes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32)
    username_key: str = Field(max_length=32, unique=True)
    password_hash: str = Field(max_length=128)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seen_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    token_version: int = Field(default=0)
    # Set by an operator (``parley user disable``): no login, no connection, until enabled again.
    disabled_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Set by ``parley user delete``: the row stays as a placeholder its messages stay attributed to.
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Topic(SQLModel, table=True):
    __tablename__ = "topics"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=80, unique=True)
    kind: str = Field(max_length=8)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seq: int = Field(default=0)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_user_id", "user_id"),)

    topic_id: int = Field(foreign_key="topics.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    role: str = Field(default="member", max_length=8)
    joined_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    delivered_seq: int = Field(default=0)
    read_seq: int = Field(default=0)


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("topic_id", "seq", name="uq_messages_topic_seq"),
        UniqueConstraint("sender_id", "client_id", name="uq_messages_sender_client"),
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


class EchoTranscript(SQLModel, table=True):
    __tablename__ = "echo_transcripts"
    __table_args__ = (Index("ix_echo_transcripts_user_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class RecoverySession(SQLModel, table=True):
    """A Socket.IO connection-state recovery session (PROTOCOL.md, "Connection-state recovery").

    ``pid`` is the private session id the client got in its CONNECT reply; ``seen_at`` is when a
    socket of that session was last known open (connect, disconnect, and a periodic refresh).
    """

    __tablename__ = "recovery_session"
    __table_args__ = (Index("ix_recovery_session_seen_at", "seen_at"),)

    pid: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id")
    seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Relay(SQLModel, table=True):
    """Domain events written by the command line for running servers without Redis to pick up.

    ``events`` is the hub codec's JSON (``server.adapters.cluster.codec``); the data layer only stores it.
    """

    __tablename__ = "relay"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    events: str = Field(sa_column=Column(Text, nullable=False))


class Node(SQLModel, table=True):
    """A running server's heartbeat: its open sockets and connected users, for ``parley stats``.

    Each server rewrites its row every few seconds and removes it when it stops; a row that
    stopped beating (a killed server) is ignored, then pruned by the next live server's beat.
    """

    __tablename__ = "node"

    name: str = Field(primary_key=True, max_length=255)
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    beat_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sockets: int = Field(sa_column=Column(Integer, nullable=False))
    users: int = Field(sa_column=Column(Integer, nullable=False))
