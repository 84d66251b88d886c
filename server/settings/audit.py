"""The audit log (server/chat/audit/; PROTOCOL.md section 16): how long its rows are kept."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AuditSettings(BaseModel):
    """Housekeeping deletes audit rows older than this many days (its own retention:
    PARLEY_RETENTION_DAYS, the messages', never applies to it)."""

    audit_retention_days: int = Field(default=365, ge=1, le=36500, description="days an audit row is kept")
