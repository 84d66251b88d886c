"""What the files' repository hands out: an upload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FileRecord:
    """An uploaded file (PROTOCOL.md section 11); ``message_id`` once a send attached it."""

    id: str  # uuid4 hex
    uploader_id: int
    name: str
    size: int
    content_type: str
    sha256: str
    width: int | None
    height: int | None
    created_at: datetime
    message_id: int | None = None
    avatar: bool = False  # someone's avatar, now or before (PROTOCOL.md section 14): any reader
