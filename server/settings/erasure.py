"""Erasure (server/chat/operators/erasure.py; PROTOCOL.md section 16): the pace of an erasure."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErasureSettings(BaseModel):
    """An erased account's rows go this many per transaction, with this pause between
    transactions (sends are never held up for long)."""

    erasure_batch: int = Field(default=20, ge=1, le=10_000, description="rows per erasure transaction")
    erasure_pause: float = Field(default=0.05, ge=0, le=60, description="seconds between erasure batches")
