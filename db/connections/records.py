"""What the connections' repository hands out: a recovery session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RecoveryRecord:
    """A Socket.IO recovery session: its private id, its user, when a socket of it was last open."""

    pid: str
    user_id: int
    seen_at: datetime
