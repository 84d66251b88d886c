"""The notifications' row a message's send batch writes: its kind joins the send store's
``WITH_ROWS`` here (``db/send_rows.py``), so the store names none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.send_rows import WITH_ROWS, RowKind


@dataclass(frozen=True, slots=True)
class NotifyJobRow:
    """A message that may notify someone (PROTOCOL.md section 15), written with it in its
    transaction: the notifier looks at it at ``due_at``."""

    message_id: int
    due_at: datetime


NOTIFY_JOB_INSERT = "INSERT INTO notify_jobs (message_id, due_at, attempts) VALUES ({0}, {1}, 0)"


def _notify_job_values(r: NotifyJobRow) -> tuple[Any, ...]:
    return (r.message_id, r.due_at)


WITH_ROWS[NotifyJobRow] = RowKind(NOTIFY_JOB_INSERT, _notify_job_values)
