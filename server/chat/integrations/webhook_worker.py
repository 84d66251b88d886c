"""The delivery worker: drains the webhook outbox (PROTOCOL.md section 12), one per node.

It takes due rows (``pending`` and ``next_at`` passed), at most ``CONCURRENT`` in flight, and
POSTs each through the ``Poster`` the composition hands in (the SSRF guard and HTTP live in
``server.adapters.webhook_http``): a slow receiver holds one slot for at most its timeout and
never delays the others, and nothing here is on the send path. On PostgreSQL the rows it takes
are leased (``FOR UPDATE SKIP LOCKED``, ``locked_until``; the ``webhook_lease`` setting, longer
than the timeout) so that one node delivers a given row; SQLite has one worker. It wakes when
this node (or, through ``OutboxWritten``, any node) wrote rows or when a retry it recorded falls
due (``DueWakeups``), and polls every second otherwise (not at all while no topic has a webhook:
then no row can be due, as only the rows of active webhooks are).

Outcomes: a 2xx is ``ok``; a timeout, a connection error, a 5xx, a 408 or a 429 is retried after
``retry_delay`` (the first retry within 10 s, then exponential up to 10 minutes apart), until at
least ``give_up`` seconds (an hour) passed since the row was written: then ``failed``; any other
4xx, or an address the guard refuses, is ``failed`` at once. Each attempt writes a row of the
delivery log, whose status is the delivery's after it: ``ok``, ``pending`` (it will be retried)
or ``failed``.

A 2xx whose JSON has a non-empty string ``text`` is handed to ``answer`` (posted as the
webhook's bot in a thread on the trigger) BEFORE the attempt is recorded: a crash in between
delivers again, and the answer's ``client_id`` (``webhook:<delivery id>``) stores it once.

Sends go first: before it takes due rows, and before each POST, the worker waits (at most
``GIVE_WAY`` seconds) until the writer has stored and answered what it holds. A delivery costs
milliseconds of the loop (HTTP, a signature, the attempt's transaction) and a burst of sends to a
topic with a webhook makes as many: taken at once, they put every ack of the burst behind them
(120 sends across two nodes are answered in 0.5-0.9 s instead of 0.07 s, past 5 s on a loaded
machine).

While the database is down (``server.chat.kernel.outage``) the worker goes on polling every second and
the outage is logged once per failure class, not a traceback per poll or per delivery; a
delivery posted but not recorded is posted again once its lease ends (at least once, as above).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import orjson

from db.records import DueDelivery
from db.uow import Database
from server.chat.integrations.webhooks import WebhookMap
from server.chat.kernel.outage import DATABASE
from server.chat.kernel.outbound import (
    AddressRefused,
    DeliveryFailed,
    Poster,
    Response,
    retry_delay,
    retryable,
)
from server.chat.kernel.periodic import DueWakeups

log = logging.getLogger("parley.webhooks")

CONCURRENT = 8  # deliveries in flight per node
POLL = 1.0  # seconds between looks at the outbox when nothing rang
GIVE_WAY = 1.0  # seconds at most a look or a POST waits for the sends in flight
USER_AGENT = "Parley-Webhooks"


Answer = Callable[[DueDelivery, str], Awaitable[None]]


class Sends(Protocol):
    """What the worker sees of the sends (``server.chat.conversations.writer.Writer``)."""

    @property
    def busy(self) -> bool:
        """Sends are being stored or wait to be."""

    async def drain(self) -> None:
        """Until everything queued is stored and answered."""


def signature(secret: str, body: bytes) -> str:
    """``X-Parley-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def answer_text(response: Response) -> str | None:
    """The ``text`` of a JSON answer, when it is a non-empty string."""
    try:
        data = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return None
    text = data.get("text") if isinstance(data, dict) else None
    return text if isinstance(text, str) and text.strip() else None


class WebhookWorker:
    def __init__(
        self,
        db: Database,
        hooks: WebhookMap,
        poster: Poster,
        *,
        retry_base: float,
        give_up: float,
        lease: float,
        single: bool,
        answer: Answer | None = None,
        sends: Sends | None = None,
    ) -> None:
        self.db = db
        self.hooks = hooks
        self.poster = poster
        self.retry_base = retry_base
        self.give_up = timedelta(seconds=give_up)
        self.lease = timedelta(seconds=lease)  # PostgreSQL: how long a taken row is this node's
        self.single = single  # SQLite: this is the only worker; leases left by a killed one are void
        self.answer = answer
        self.sends = sends  # the conversations' writer: its sends are answered first
        self._wake = asyncio.Event()
        self._retries = DueWakeups(self._wake.set)  # the retries recorded here, when they fall due
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        hooks.bell.listeners.append(self._wake.set)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._retries.cancel()
        tasks = [t for t in (self._task, *self._inflight) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        await self.poster.close()

    async def _run(self) -> None:
        if self.single:
            async with self.db.write() as repos:
                await repos.webhooks.release_leases()
        outage = False
        while True:
            self._wake.clear()
            free = CONCURRENT - len(self._inflight)
            taken = 0
            if free > 0 and self.hooks.by_topic:  # no webhook anywhere: nothing can be due
                await self._give_way()
                try:
                    taken = self._start(await self._due(free))
                except Exception as exc:
                    if DATABASE.failed(exc, "taking due webhook deliveries"):
                        outage = True
                    else:
                        log.exception("taking due webhook deliveries failed; trying again")
                else:
                    if outage:
                        DATABASE.recovered()
                    outage = False
            if taken and taken == free:
                continue  # more may be due
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL):
                    await self._wake.wait()

    async def _due(self, limit: int) -> list[DueDelivery]:
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            return await repos.webhooks.due(now, now + self.lease, limit)

    def _start(self, rows: list[DueDelivery]) -> int:
        for row in rows:
            task = asyncio.create_task(self._deliver(row))
            self._inflight.add(task)
            task.add_done_callback(self._done)
        return len(rows)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free

    async def _give_way(self) -> None:
        """Let the sends stored or queued now be answered first, for at most ``GIVE_WAY`` s."""
        if self.sends is not None and self.sends.busy:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(GIVE_WAY):
                    await self.sends.drain()

    async def _deliver(self, row: DueDelivery) -> None:
        try:
            await self._give_way()
            await self._attempt(row)
        except Exception as exc:  # the lease ends and the row is taken again
            if not DATABASE.failed(exc, "recording a webhook delivery"):
                log.exception("a webhook delivery could not be recorded", extra={"delivery": row.id})

    async def _attempt(self, row: DueDelivery) -> None:
        body = row.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Parley-Event": row.event,
            "X-Parley-Delivery": row.id,
            "X-Parley-Signature": signature(row.secret, body),
        }
        code: int | None = None
        status = "pending"
        try:
            response = await self.poster.post(row.url, headers, body)
        except AddressRefused as exc:
            log.warning("a webhook address was refused", extra={"delivery": row.id, "error": str(exc)})
            status = "failed"
        except DeliveryFailed as exc:
            log.info("a webhook delivery got no answer", extra={"delivery": row.id, "error": str(exc)})
        else:
            code = response.code
            if 200 <= code < 300:
                status = "ok"
                text = answer_text(response)
                if text is not None and self.answer is not None:
                    await self._answer(row, text)
            elif not retryable(code):
                status = "failed"
        now = datetime.now(UTC)
        next_at = None
        if status == "pending":
            created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
            if now - created >= self.give_up:
                status = "failed"
            else:
                next_at = now + timedelta(seconds=retry_delay(row.attempts + 1, self.retry_base))
        async with self.db.write() as repos:
            await repos.webhooks.attempted(row, now, status, code, next_at)
        self._retries.at(next_at)

    async def _answer(self, row: DueDelivery, text: str) -> None:
        assert self.answer is not None
        try:
            await self.answer(row, text)
        except Exception:  # the receiver's answer is a courtesy: the delivery itself succeeded
            log.warning("a webhook's answer could not be posted", exc_info=True, extra={"delivery": row.id})
