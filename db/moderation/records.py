"""What moderation's repository hands out: a reported message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """A reported message (PROTOCOL.md section 10) with what the operator is shown of it; the
    message's fields are None once its topic is deleted."""

    id: int
    created_at: datetime
    reporter: str | None
    reason: str
    message_id: int
    topic_name: str | None
    topic_kind: str | None
    seq: int | None
    sender: str | None
    body: str | None
    deleted_at: datetime | None
