"""Presence (server/chat/presence/): when a user is online, away, or gone with a dead node."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PresenceSettings(BaseModel):
    """The grace of a reconnect, the idle time before away, and a node's heartbeat lifetime."""

    presence_grace: float = Field(default=2.0, ge=0, le=3)
    # PROTOCOL.md section 14: seconds without an event from any socket before a user is away.
    away_after: float = Field(default=600.0, gt=0, description="seconds of no activity before away")
    presence_ttl: float = Field(default=15.0, ge=1, description="seconds a dead node's users stay online")
