"""Presence's part of the composition: the service, started with the chat."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.kernel.online import OnlineRegistry
from server.chat.kernel.wiring import Wiring
from server.chat.presence.service import PresenceService
from server.chat.rules.blocking import Blocks


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Presence's timers (PROTOCOL.md section 14)."""

    presence_grace: float
    away_after: float  # seconds without an event before a user is away


def build(w: Wiring, limits: Limits, registry: OnlineRegistry | None, blocks: Blocks) -> PresenceService:
    presence = PresenceService(
        w.db, w.hub, limits.presence_grace, registry, blocks=blocks, away_after=limits.away_after
    )
    w.part("presence", presence.start, presence.close)
    w.part("activity", presence.activity.start, presence.activity.stop, serving=True)
    return presence
