"""Exports' shapes (PROTOCOL.md section 16)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.chat.kernel.schemas import Out


class ExportCreated(Out):
    """``POST /api/users/me/export`` answers 202 with the export's id."""

    id: str


@dataclass(frozen=True)
class ExportState:
    """Where one of the caller's exports is: ``pending``, or ``ready`` with its ZIP's ``path``."""

    id: str
    state: str
    path: Path | None = None
    size: int | None = None
