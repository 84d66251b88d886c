"""What the connections' reads hand out: a recovery session, and what a connection opens with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RecoveryRecord:
    """A Socket.IO recovery session: its private id, its user, when a socket of it was last open."""

    pid: str
    user_id: int
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class Opening:
    """What a connection reads once its token passed: (topic id, kind) of every membership of its
    user, and the user's availability (chosen, idle), None when there is no such user."""

    topics: list[tuple[int, str]]
    availability: tuple[str, bool] | None
