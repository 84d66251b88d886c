"""DTOs of a connection's signals: typing, and the read and delivered cursors (PROTOCOL.md section 3)."""

from __future__ import annotations

from server.chat.kernel.schemas import Seq, ToTarget, WithTarget


class TypingIn(ToTarget):
    typing: bool


class CursorIn(WithTarget):
    seq: Seq
