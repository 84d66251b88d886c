"""Retention (server/chat/retention/; PROTOCOL.md section 16; docs/deploy.md "Retention")."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RetentionSettings(BaseModel):
    """Messages older than ``retention_days`` are deleted for good by a sweep on every node (one at
    a time on PostgreSQL); unset keeps everything. A topic's ``retention_days`` may only be
    shorter. ``retention_interval``: seconds between two sweeps of one node."""

    retention_days: int | None = Field(default=None, ge=1, description="days a message is kept (unset: ever)")
    retention_interval: float = Field(default=300.0, gt=0, description="seconds between two retention sweeps")
