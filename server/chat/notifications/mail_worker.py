"""The mail worker: drains the mail outbox (PROTOCOL.md section 15), one per node, as the webhook
worker drains its own (``server.chat.integrations.webhook_worker``).

It takes due mails (``pending``, ``next_at`` passed; on PostgreSQL leased with ``FOR UPDATE SKIP
LOCKED`` so that one node sends a given mail, the lease outlasting two SMTP timeouts; SQLite has one
worker), at most ``CONCURRENT`` at once, and hands each to the ``Mailer`` port
(``server.adapters.smtp``). The server accepted it: ``ok``, never sent again. A 4xx reply, a
connection error or a timeout (``MailDeferred``): tried again after ``retry_delay`` (the outboxes'
one backoff, ``server.chat.kernel.outbound``) until ``give_up`` seconds passed since the mail was
written, then ``failed``. A 5xx reply (``MailRefused``): ``failed`` at once. It wakes when this
node wrote a mail or a retry it recorded falls due (``DueWakeups``), and polls every second
otherwise; while the database is down it goes on polling
and logs the outage once per failure class (``server.chat.kernel.outage``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from db.notifications.mail import DueMail
from db.uow import Database
from server.chat.kernel.outbound import retry_delay
from server.chat.kernel.periodic import DueWakeups, IdlePoll, QueueLoop
from server.chat.notifications.mail import MailDeferred, Mailer, MailRefused

log = logging.getLogger("parley.mail")

CONCURRENT = 4  # mails in flight per node
POLL = 1.0  # seconds between looks at the outbox when nothing rang


class MailWorker:
    def __init__(
        self, db: Database, mailer: Mailer, *, retry_base: float, give_up: float, single: bool
    ) -> None:
        self.db = db
        self.mailer = mailer
        self.retry_base = retry_base
        self.give_up = timedelta(seconds=give_up)
        self.lease = timedelta(seconds=2 * mailer.timeout + 10)
        self.single = single  # SQLite: the only worker; leases left by a killed one are void
        self._loop = QueueLoop(
            self._round,
            IdlePoll(POLL, POLL),
            "sending mails",
            full=CONCURRENT,
            prepare=self._release if single else None,
        )
        self._retries = DueWakeups(self._loop.ring)  # the retries recorded here, when they fall due

    def wake(self) -> None:
        """A mail was written: look now."""
        self._loop.ring()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        self._retries.cancel()
        await self._loop.stop()

    async def _release(self) -> None:
        """SQLite: the only worker; the leases a killed process left are void."""
        async with self.db.write() as repos:
            await repos.mail.release_leases()

    async def _round(self) -> int:
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            due = await repos.mail.due(now, now + self.lease, CONCURRENT)
        await asyncio.gather(*(self._send(mail) for mail in due))
        return len(due)

    async def _send(self, mail: DueMail) -> None:
        status, next_at = "ok", None
        try:
            await self.mailer.send(mail.to_address, mail.content)
        except MailRefused as exc:
            log.warning("a mail was refused", extra={"mail": mail.id, "error": str(exc)})
            status = "failed"
        except MailDeferred as exc:
            log.info("a mail was not accepted; trying again", extra={"mail": mail.id, "error": str(exc)})
            now = datetime.now(UTC)
            created = mail.created_at if mail.created_at.tzinfo else mail.created_at.replace(tzinfo=UTC)
            status = "failed" if now - created >= self.give_up else "pending"
            if status == "pending":
                next_at = now + timedelta(seconds=retry_delay(mail.attempts + 1, self.retry_base))
        async with self.db.write() as repos:
            await repos.mail.attempted(mail, status, next_at)
        self._retries.at(next_at)
