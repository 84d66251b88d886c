"""Notifications' part of the composition (PROTOCOL.md section 15): the preferences, and the
listeners that decide and send pushes and digests (registered like the outgoing webhooks: a send
hook and commit handlers, never on the send's critical path)."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.kernel.wiring import Wiring
from server.chat.notifications.preferences import PreferenceService


@dataclass(frozen=True)
class Notifications:
    preferences: PreferenceService


def build(w: Wiring, *, email_available: bool) -> Notifications:
    return Notifications(PreferenceService(w.db, email_available))
