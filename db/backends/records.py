"""What the server keys' repository hands out (PROTOCOL.md section 17)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ServerKeyRecord:
    """A key as stored (never the key itself): ``bot_name`` is its bot's username."""

    id: str
    label: str
    scopes: tuple[str, ...]
    bot_id: int
    bot_name: str
    created_at: datetime
    revoked_at: datetime | None
