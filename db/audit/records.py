"""What the audit log's repository hands out: one row of the log; and the row a message's send
batch may write, whose kind joins the send store's ``WITH_ROWS`` here (``db/send_rows.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.send_rows import WITH_ROWS, RowKind


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


@dataclass(frozen=True, slots=True)
class AuditRow:
    """An audit row written with a message in its send batch (``db/send_rows.py``), for an action
    whose change is the message itself: the server API's publish (PROTOCOL.md section 17), which
    so costs no transaction of its own. ``details`` is the JSON text."""

    at: datetime
    actor_id: int | None
    actor: str
    action: str
    target: str | None
    topic: str | None
    details: str


AUDIT_INSERT = (
    "INSERT INTO audit_log (at, actor_id, actor, actor_key, action, target, topic, details)"
    " VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7})"
)


def _audit_values(r: AuditRow) -> tuple[Any, ...]:
    return (r.at, r.actor_id, r.actor, r.actor.lower(), r.action, r.target, r.topic, r.details)


WITH_ROWS[AuditRow] = RowKind(AUDIT_INSERT, _audit_values)
