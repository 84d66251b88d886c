"""DTOs of the audit log: a row as ``parley audit --json`` and the Admin UI's Audit log page show it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    """PROTOCOL.md section 16's row. ``actor`` is the name as it was (``cli`` or
    ``admin-ui:<name>`` for the operator, whose ``actor_id`` is null)."""

    id: int
    at: str
    actor: str
    actor_id: int | None
    action: str
    target: str | None
    topic: str | None
    details: dict[str, Any]


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
