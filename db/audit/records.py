"""What the audit log's repository hands out: one row of the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One row of the audit log (PROTOCOL.md section 16); ``actor_id`` None for the operator."""

    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    target: str | None
    topic: str | None
    details: dict[str, Any]
