"""The echo capability (server/chat/echo/) and the echo-chat dialect's public channel."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints


class EchoSettings(BaseModel):
    """The echo upstream, its pool and timeout, a transcript's memory, the dialect's public topic."""

    echo_upstream: str | None = None
    echo_timeout: float = Field(default=5.0, gt=0)
    echo_upstream_connections: int = Field(default=16, gt=0, description="pooled upstream connections")
    echo_transcript_bytes: int = Field(
        default=256 * 1024, ge=1024, description="memory a transcript holds: JSON bytes plus 64 a line"
    )
    # The echo-chat dialect's public channel (PROTOCOL.md 7.3): a public topic, created at start-up.
    public_topic: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")] = "lobby"
