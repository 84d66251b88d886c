"""Notifications' part of the composition (PROTOCOL.md section 15): the preferences, and the
listeners that decide and send pushes and digests (registered like the outgoing webhooks: a send
hook and commit handlers, never on the send's critical path).

A notifying message's job is a send hook on the conversations' port (always: a message stored
by any process is decided by a server); the notifier that decides the jobs runs in a serving
process, and hands its candidates to its ``channels``: the Web Push channel here (its outbox
rows are sent by the push worker), the email digest beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.engine import is_sqlite
from server.chat.conversations.assembly import Conversations
from server.chat.kernel.limits import Limits
from server.chat.kernel.wiring import Wiring
from server.chat.notifications.jobs import Bell, NotifySendHook
from server.chat.notifications.notifier import Notifier
from server.chat.notifications.preferences import PreferenceService
from server.chat.notifications.push import PushChannel
from server.chat.presence.service import PresenceService


@dataclass(frozen=True)
class Notifications:
    preferences: PreferenceService
    notifier: Notifier  # its ``channels`` are what a decided message is handed to


def build(
    w: Wiring,
    limits: Limits,
    conversations: Conversations,
    presence: PresenceService,
    *,
    email_available: bool,
) -> Notifications:
    bell = Bell()
    conversations.send_hooks.append(NotifySendHook(bell, limits.push_delay))  # -> a notify job
    notifier = Notifier(w.db, presence.online_among, bell, single=is_sqlite(w.db.url))
    notifier.channels.append(PushChannel(limits.push_content, limits.public_url))
    w.part("notifier", notifier.start, notifier.stop, serving=True)
    return Notifications(PreferenceService(w.db, email_available), notifier)
