"""Notifications' part of the composition (PROTOCOL.md section 15): the preferences, and the
listeners that decide and send pushes and digests (registered like the outgoing webhooks: a send
hook and commit handlers, never on the send's critical path).

Email is on when the composition hands a ``Composer`` and a ``Mailer`` (``PARLEY_SMTP_URL`` and
``PARLEY_SMTP_FROM``): then a serving process sweeps for digests and drains the mail outbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.engine import is_sqlite
from server.chat.kernel.limits import Limits
from server.chat.kernel.wiring import Wiring
from server.chat.notifications.digest import DigestSweep
from server.chat.notifications.email import EmailService
from server.chat.notifications.mail import Composer, Mailer
from server.chat.notifications.mail_worker import MailWorker
from server.chat.notifications.preferences import PreferenceService
from server.chat.notifications.tokens import MailTokens
from server.chat.presence.service import PresenceService


@dataclass(frozen=True)
class Notifications:
    preferences: PreferenceService
    email: EmailService
    digests: DigestSweep | None  # email on
    mail_worker: MailWorker | None


def build(
    w: Wiring,
    limits: Limits,
    presence: PresenceService,
    secret: str,
    *,
    composer: Composer | None,
    mailer: Mailer | None,
) -> Notifications:
    if composer is None or mailer is None:
        composer = mailer = None
    tokens = MailTokens(secret)
    worker = digests = None
    if composer is not None and mailer is not None:
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
    email = EmailService(w.db, tokens, composer, worker.wake if worker is not None else _nothing)
    return Notifications(PreferenceService(w.db, composer is not None), email, digests, worker)


def _nothing() -> None:
    """No mail worker (email off): nothing to wake."""
