"""Calls (PROTOCOL.md section 18): the running ones and their participants.

Only running calls have rows: a call's row goes when its last participant leaves (its system
message keeps the record). The topic's key makes a conversation's second call impossible, even
when two nodes start one at once. Every node reads these rows: a participant's socket and node
are here, so a signal reaches it wherever it is, and a node that died is seen by its stale
heartbeat (``node``) and its participants removed by the others.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Integer, String
from sqlmodel import Field, SQLModel


class Call(SQLModel, table=True):
    __tablename__ = "calls"
    __table_args__ = ({"sqlite_autoincrement": True},)  # an ended call's id is never reused

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    topic_id: int = Field(sa_column=Column(Integer, nullable=False, unique=True))
    media: str = Field(sa_column=Column(String(8), nullable=False))
    started_by: int = Field(sa_column=Column(Integer, nullable=False))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    message_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class CallParticipant(SQLModel, table=True):
    """One user in a call, through one socket (``sid`` on ``node``) known to the others as ``peer``;
    ``gone_at``: when that socket closed (the seat is kept for the presence grace)."""

    __tablename__ = "call_participants"
    __table_args__ = (
        Index("ix_call_participants_sid", "sid"),
        Index("ix_call_participants_node", "node"),
    )

    call_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    peer: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    sid: str = Field(sa_column=Column(String(64), nullable=False))
    node: str = Field(sa_column=Column(String(255), nullable=False))
    joined_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    gone_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
