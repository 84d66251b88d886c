"""DTOs of custom emoji (PROTOCOL.md section 13)."""

from __future__ import annotations

import re

from server.chat.kernel.schemas import Out

NAME = re.compile(r"[a-z0-9_-]{1,32}")
MAX_BYTES = 256 * 1024  # an upload's bytes
SHOWN = 128  # pixels a side, at most, of the picture kept and shown


class EmojiOut(Out):
    name: str
    url: str
    by: str | None
    created_at: str


class EmojiListOut(Out):
    """``GET /api/emoji``."""

    emoji: list[EmojiOut]
