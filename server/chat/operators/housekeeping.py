"""Housekeeping: rows kept only for a while are pruned (the webhook outbox, its delivery log, the
push and mail outboxes, the relay table), so that no table grows without bound.

- Outbox rows whose delivery is over (``ok`` or ``failed``) go ``webhook_outbox_retention``
  seconds after they were written; a ``pending`` row of a live webhook is a delivery still owed
  and is never pruned. A removed webhook's pending rows go with it (``WebhookRepository.remove``);
  one a send racing the removal (or the topic's deletion) still wrote is owed to nobody, as no
  worker takes it, and goes after the same retention.
- Delivery-log rows go ``webhook_log_retention`` seconds after their attempt (the log lists the
  newest 100 attempts of a webhook; older ones are history nobody reads).
- Mails sent or failed (``mail_outbox``, PROTOCOL.md section 15) go after the outbox's retention
  too; a pending mail is never pruned.
- Push outbox rows (PROTOCOL.md section 15) whose push is over (``ok`` or ``failed``) go after
  the same ``webhook_outbox_retention``; a ``pending`` one is a push still owed.
- Audit rows (PROTOCOL.md section 16) go ``audit_retention_days`` days after they were written
  (``PARLEY_AUDIT_RETENTION_DAYS``, default 365), oldest first.
- Relay rows (the command line's events for servers without Redis, read within a second) go
  after ``RELAY_KEEP`` as they do at each write, the newest kept (``RelayRepository.prune``).

Each round deletes in batches of ``BATCH`` rows, one short transaction each, so that no lock is
held long and a large backlog never stalls the writer; a round stops after ``MAX_BATCHES`` per
table (the next round goes on). On PostgreSQL each batch first takes an advisory lock
(``prune_lock``): while one node prunes, the others skip their round.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from db.repositories import Repositories
from db.uow import RELAY_KEEP, Database
from server.chat.kernel.periodic import Periodic

log = logging.getLogger("parley.housekeeping")
INTERVAL = 600.0  # seconds between two rounds of one node
BATCH = 500  # rows per delete (one transaction)
MAX_BATCHES = 100  # per table and round: 50,000 rows


@dataclass(frozen=True)
class Retention:
    outbox: float  # PARLEY_WEBHOOK_OUTBOX_RETENTION: seconds a finished delivery is kept
    log: float  # PARLEY_WEBHOOK_LOG_RETENTION: seconds an attempt stays in the delivery log
    audit: float = 365 * 86400.0  # PARLEY_AUDIT_RETENTION_DAYS, in seconds: an audit row's life


@dataclass
class Pruned:
    outbox: int = 0
    log: int = 0
    relay: int = 0
    mail: int = 0
    push: int = 0
    audit: int = 0


Batch = Callable[[Repositories], Awaitable[int]]


class Housekeeping:
    def __init__(self, db: Database, retention: Retention, interval: float = INTERVAL) -> None:
        self.db = db
        self.retention = retention
        self._periodic = Periodic(self._round, interval, "pruning old rows")

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def _round(self) -> None:
        pruned = await self.prune()
        if pruned.outbox or pruned.log or pruned.relay or pruned.push or pruned.mail or pruned.audit:
            counts = (pruned.outbox, pruned.log, pruned.relay, pruned.push, pruned.mail, pruned.audit)
            log.info("pruned outbox=%d log=%d relay=%d push=%d mail=%d audit=%d", *counts)

    async def prune(self, now: datetime | None = None) -> Pruned:
        """One round: every table in batches, until a batch comes back short (or another node
        holds the lock). The rows removed per table."""
        now = now or datetime.now(UTC)
        outbox_before = now - timedelta(seconds=self.retention.outbox)
        log_before = now - timedelta(seconds=self.retention.log)
        pruned = Pruned()
        pruned.outbox = await self._batches(lambda repos: repos.webhooks.prune_outbox(outbox_before, BATCH))
        pruned.log = await self._batches(lambda repos: repos.webhooks.prune_log(log_before, BATCH))
        pruned.relay = await self._batches(lambda repos: repos.relay.prune(now - RELAY_KEEP, BATCH))
        pruned.mail = await self._batches(lambda repos: repos.mail.prune(outbox_before, BATCH))
        pruned.push = await self._batches(lambda repos: repos.push.prune(outbox_before, BATCH))
        audit_before = now - timedelta(seconds=self.retention.audit)
        pruned.audit = await self._batches(lambda repos: repos.audit.prune(audit_before, BATCH))
        return pruned

    async def _batches(self, batch: Batch) -> int:
        total = 0
        for _ in range(MAX_BATCHES):
            async with self.db.write() as repos:
                if not await repos.webhooks.prune_lock():
                    return total
                count = await batch(repos)
            total += count
            if count < BATCH:
                break
        return total
