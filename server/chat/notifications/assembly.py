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
from server.chat.kernel.budgets import per_hour
from server.chat.kernel.limits import OutboundLimits
from server.chat.kernel.wiring import Wiring
from server.chat.notifications.digest import DigestSweep, EmailChannel
from server.chat.notifications.email import VERIFY_PER_HOUR, EmailService
from server.chat.notifications.jobs import Bell, NotifySendHook
from server.chat.notifications.mail import Composer, Mailer
from server.chat.notifications.mail_worker import MailWorker
from server.chat.notifications.notifier import Notifier
from server.chat.notifications.ports import PushSender
from server.chat.notifications.preferences import PreferenceService
from server.chat.notifications.push import PushChannel
from server.chat.notifications.push_worker import PushWorker
from server.chat.notifications.subscriptions import PushService
from server.chat.notifications.tokens import MailTokens
from server.chat.presence.service import PresenceService


@dataclass(frozen=True, kw_only=True)
class Limits(OutboundLimits):
    """Pushes and digests (PROTOCOL.md section 15); their workers share the webhooks' timing."""

    push_delay: float  # seconds a notifying message waits unread before a push
    push_content: bool  # off: pushes carry no text
    public_url: str | None  # where browsers reach Parley: a push's link to its message
    email_delay: float  # seconds without a socket before a digest


@dataclass(frozen=True)
class Notifications:
    preferences: PreferenceService
    push: PushService
    notifier: Notifier  # its ``channels`` are what a decided message is handed to
    push_worker: PushWorker | None  # a server's, when it can send pushes
    email: EmailService


def build(
    w: Wiring,
    limits: Limits,
    conversations: Conversations,
    presence: PresenceService,
    sender: PushSender | None,
    secret: str,
    *,
    composer: Composer | None,
    mailer: Mailer | None,
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
    email = build_email(w, limits, presence, notifier, secret, composer, mailer)
    prune_outboxes(w, limits.webhook_outbox_retention)
    preferences = PreferenceService(w.db, email.composer is not None)
    return Notifications(preferences, PushService(w.db, sender), notifier, worker, email)


def build_email(
    w: Wiring,
    limits: Limits,
    presence: PresenceService,
    notifier: Notifier,
    secret: str,
    composer: Composer | None,
    mailer: Mailer | None,
) -> EmailService:
    """Email's parts, when it is on: the notifier's email channel (rows waiting for a digest),
    the digest sweep and the mail worker, both a server's."""
    tokens = MailTokens(secret)
    limit = per_hour("verify-mails", VERIFY_PER_HOUR, w.budgets)
    if composer is None or mailer is None:
        return EmailService(w.db, tokens, None, _nothing, limit)
    notifier.channels.append(EmailChannel(limits.email_delay))  # -> email_pending
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
    return EmailService(w.db, tokens, composer, worker.wake, limit)


def prune_outboxes(w: Wiring, keep: float) -> None:
    """Housekeeping: mails and pushes sent or failed ``keep`` seconds ago (the webhooks' outbox
    retention); a pending one is never pruned."""
    w.prune("mail", keep, lambda repos, before, limit: repos.mail.prune(before, limit))
    w.prune("push", keep, lambda repos, before, limit: repos.push.prune(before, limit))


def _nothing() -> None:
    """No mail worker (email off): nothing to wake."""
