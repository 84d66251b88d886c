"""What the connections' reads hand out: a recovery session, and what a connection opens with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.accounts.records import Credentials


@dataclass(frozen=True, slots=True)
class RecoveryRecord:
    """A Socket.IO recovery session: its private id, its user, when a socket of it was last open."""

    pid: str
    user_id: int
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class Opening:
    """What a connection reads of its user: the credentials its token is checked against, (topic
    id, kind) of every membership, and the availability (chosen, idle); both None when there is no
    such user."""

    credentials: Credentials | None
    topics: list[tuple[int, str]]
    availability: tuple[str, bool] | None
