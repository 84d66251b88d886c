"""Custom emoji's part of the composition (PROTOCOL.md section 13): the service, over the files'
uploads (none at the command line)."""

from __future__ import annotations

from server.chat.emoji.service import EmojiService
from server.chat.files.service import FileService
from server.chat.kernel.wiring import Wiring


def build(w: Wiring, files: FileService | None) -> EmojiService:
    return EmojiService(w.db, files)
