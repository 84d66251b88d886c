"""What the integrations' repositories hand out, and the outbox row a message's send batch writes:
its kind joins the send store's ``WITH_ROWS`` here (``db/send_rows.py``), so the store names none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.send_rows import WITH_ROWS, RowKind


@dataclass(frozen=True, slots=True)
class BotTokenRecord:
    """A bot's API token as stored: never the token, only its SHA-256 (PROTOCOL.md section 12)."""

    id: str
    user_id: int
    label: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HookRecord:
    """An incoming webhook: its topic, the bot it posts as, who made it (PROTOCOL.md section 12)."""

    id: str
    topic_id: int
    bot_id: int
    created_by: int
    created_at: datetime
    revoked_at: datetime | None = None
    bot_made: bool = False  # the bot was made for this hook (revoking it disables the bot)


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    """An outgoing webhook (PROTOCOL.md section 12); ``secret`` signs its deliveries."""

    id: str
    topic_id: int
    url: str
    events: tuple[str, ...]
    secret: str
    bot_id: int | None
    created_by: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A delivery to write in the transaction of its event: ``body`` is the exact JSON signed."""

    id: str
    webhook_id: str
    event: str
    body: str
    trigger_message_id: int | None
    created_at: datetime


OUTBOX_INSERT = (
    "INSERT INTO webhook_outbox (id, webhook_id, event, body, trigger_message_id, attempts, next_at,"
    " status, created_at) VALUES ({0}, {1}, {2}, {3}, {4}, 0, {5}, 'pending', {6})"
)


def _outbox_values(r: OutboxRow) -> tuple[Any, ...]:
    return (r.id, r.webhook_id, r.event, r.body, r.trigger_message_id, r.created_at, r.created_at)


WITH_ROWS[OutboxRow] = RowKind(OUTBOX_INSERT, _outbox_values)


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """An outbox row the worker took (on PostgreSQL under a lease), with what it needs to post."""

    id: str
    webhook_id: str
    event: str
    body: str
    trigger_message_id: int | None
    attempts: int
    created_at: datetime
    url: str
    secret: str
    bot_id: int | None
    topic_id: int


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One attempt of the delivery log."""

    outbox_id: str
    event: str
    attempt: int
    at: datetime
    status: str
    code: int | None
