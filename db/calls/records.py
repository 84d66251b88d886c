"""What the calls' repository hands out (PROTOCOL.md section 18)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CallRecord:
    id: int
    topic_id: int
    media: str
    started_by: int
    started_by_name: str
    started_at: datetime
    message_id: int | None


@dataclass(frozen=True, slots=True)
class SeatRecord:
    """A participant: the user, the socket it takes part through and its name in the call."""

    call_id: int
    user_id: int
    username: str
    peer: str
    sid: str
    node: str
    joined_at: datetime
    gone_at: datetime | None
