"""The operators' tables: the running servers' heartbeats and the accounts being erased."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
)
from sqlmodel import Field, SQLModel


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


class ErasureJob(SQLModel, table=True):
    """An account being erased (PROTOCOL.md section 16): written with the account's disabling, taken
    by one node's worker at a time (``locked_until``), removed when the erasure finished. What
    makes an erasure resume after a crash."""

    __tablename__ = "erasure_jobs"

    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
