"""DTOs of moderation: the reports an operator reads (the Admin UI's Reports page, PROTOCOL.md
section 10)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ReportedMessageOut(BaseModel):
    """The reported message as the operator sees it (None fields: its topic was deleted)."""

    id: int
    topic: str | None  # a direct conversation: ``@sender/@reporter``
    kind: Literal["public", "private", "direct"] | None
    seq: int | None
    sender: str | None
    excerpt: str  # the first 100 characters of its body; "" once deleted
    deleted: bool
    link: str | None  # the REST page holding just this message, for a reader of it


class ReportOut(BaseModel):
    id: int
    created_at: str
    reporter: str | None
    reason: str
    message: ReportedMessageOut


class ReportsOut(BaseModel):
    reports: list[ReportOut]  # newest first
