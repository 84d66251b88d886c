"""DTOs of the echo service: the transcripts of a user's echo sessions."""

from __future__ import annotations

from typing import Any

from server.chat.kernel.schemas import Out


class TranscriptOut(Out):
    id: int
    started_at: str
    ended_at: str
    lines: list[dict[str, Any]]


class TranscriptsOut(Out):
    transcripts: list[TranscriptOut]
