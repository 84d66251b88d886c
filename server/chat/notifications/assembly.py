"""Notifications' part of the composition (PROTOCOL.md section 15): the preferences, and the
listeners that decide and send pushes and digests (registered like the outgoing webhooks: a send
hook and commit handlers, never on the send's critical path).

A notifying message's job is a send hook on the conversations' port (always: a message stored
by any process is decided by a server); the notifier that decides the jobs runs in a serving
process, and hands its candidates to its ``channels``: the Web Push channel (its outbox rows are
sent by the push worker) and, when email is on, the email channel (rows waiting for a digest).

Email is on when the composition hands a ``Composer`` and a ``Mailer`` (``PARLEY_SMTP_URL`` and
``PARLEY_SMTP_FROM``): then a serving process also sweeps for digests and drains the mail outbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.engine import is_sqlite
from server.chat.conversations.assembly import Conversations
from server.chat.kernel.limits import Limits
from server.chat.kernel.wiring import Wiring
from server.chat.notifications.digest import DigestSweep, EmailChannel
from server.chat.notifications.email import EmailService
from server.chat.notifications.jobs import Bell, NotifySendHook
from server.chat.notifications.mail import Composer, Mailer
from server.chat.notifications.mail_worker import MailWorker
from server.chat.notifications.notifier import Notifier
from server.chat.notifications.preferences import PreferenceService
from server.chat.notifications.push import PushChannel
from server.chat.notifications.tokens import MailTokens
from server.chat.presence.service import PresenceService


@dataclass(frozen=True)
class Notifications:
    preferences: PreferenceService
    notifier: Notifier  # its ``channels`` are what a decided message is handed to
    email: EmailService


def build(
    w: Wiring,
    limits: Limits,
    conversations: Conversations,
    presence: PresenceService,
    secret: str,
    *,
    composer: Composer | None,
    mailer: Mailer | None,
) -> Notifications:
    bell = Bell()
    conversations.send_hooks.append(NotifySendHook(bell, limits.push_delay))  # -> a notify job
    notifier = Notifier(w.db, presence.online_among, bell, single=is_sqlite(w.db.url))
    notifier.channels.append(PushChannel(limits.push_content, limits.public_url))
    w.part("notifier", notifier.start, notifier.stop, serving=True)
    tokens = MailTokens(secret)
    if composer is None or mailer is None:  # email off
        email = EmailService(w.db, tokens, None, _nothing)
        return Notifications(PreferenceService(w.db, False), notifier, email)
    notifier.channels.append(EmailChannel(limits.email_delay))
    worker = MailWorker(
        w.db,
        mailer,
        retry_base=limits.webhook_retry_base,
        give_up=limits.webhook_give_up,
        single=is_sqlite(w.db.url),
    )
    w.part("mail worker", worker.start, worker.stop, serving=True)
    digests = DigestSweep(w.db, presence.online_among, composer, tokens, limits.email_delay, worker.wake)
    w.part("email digests", digests.periodic.start, digests.periodic.stop, serving=True)
    email = EmailService(w.db, tokens, composer, worker.wake)
    return Notifications(PreferenceService(w.db, True), notifier, email)


def _nothing() -> None:
    """No mail worker (email off): nothing to wake."""
