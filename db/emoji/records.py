"""What the custom emoji's repository hands out (PROTOCOL.md section 13)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class EmojiRecord:
    """A custom emoji as listed: ``by`` is its adder's username (None once the account is gone)."""

    name: str
    sha256: str
    width: int
    height: int
    by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EmojiPicture:
    name: str
    content_type: str
    data: bytes
    sha256: str
