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
from server.chat.notifications.ports import PushSender
from server.chat.notifications.preferences import PreferenceService
from server.chat.notifications.push import PushChannel
from server.chat.notifications.push_worker import PushWorker
from server.chat.notifications.subscriptions import PushService
from server.chat.presence.service import PresenceService


@dataclass(frozen=True)
class Notifications:
    preferences: PreferenceService
    push: PushService
    notifier: Notifier  # its ``channels`` are what a decided message is handed to
    push_worker: PushWorker | None  # a server's, when it can send pushes


def build(
    w: Wiring,
    limits: Limits,
    conversations: Conversations,
    presence: PresenceService,
    sender: PushSender | None,
    *,
    email_available: bool,
) -> Notifications:
    bell = Bell()
    conversations.send_hooks.append(NotifySendHook(bell, limits.push_delay))  # -> a notify job
    single = is_sqlite(w.db.url)
    notifier = Notifier(w.db, presence.online_among, bell, single=single)
    worker = None
    if sender is not None:
        notifier.channels.append(PushChannel(limits.push_content, limits.public_url))  # -> push_outbox
        worker = PushWorker(
            w.db,
            sender,
            retry_base=limits.webhook_retry_base,  # the webhooks' backoff and lease (section 12)
            give_up=limits.webhook_give_up,
            lease=limits.webhook_lease,
            single=single,
        )
        notifier.after.append(worker.wake)  # rows written: send them now
    w.part("notifier", notifier.start, notifier.stop, serving=True)
    if worker is not None:
        w.part("push worker", worker.start, worker.stop, serving=True)
    preferences = PreferenceService(w.db, email_available)
    return Notifications(preferences, PushService(w.db, sender), notifier, worker)
