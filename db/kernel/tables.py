"""The hub's table: events relayed through the database to running servers without Redis."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Text,
)
from sqlmodel import Field, SQLModel


class Relay(SQLModel, table=True):
    """Domain events written by the command line for running servers without Redis to pick up.

    ``events`` is the hub codec's JSON (``server.adapters.cluster.codec``); the data layer only stores it.
    """

    __tablename__ = "relay"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    events: str = Field(sa_column=Column(Text, nullable=False))
