"""The exports' table: a user's export of their data (PROTOCOL.md section 16)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Text,
)
from sqlmodel import Field, SQLModel


class Export(SQLModel, table=True):
    """A user's export of their data (PROTOCOL.md section 16): ``pending`` until a worker built its
    ZIP (``ready``, ``size`` bytes at ``<data_dir>/exports/<id>.zip``) or gave up (``failed``). A
    worker holds it while ``locked_until``; rows and files go 7 days after ``requested_at``."""

    __tablename__ = "exports"
    __table_args__ = (
        Index("ix_exports_user", "user_id", "requested_at"),
        Index("ix_exports_state", "state", "requested_at"),
    )

    id: str = Field(primary_key=True, max_length=32)
    user_id: int
    state: str = Field(max_length=8)
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ready_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    attempts: int = Field(default=0)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
