"""What the outgoing webhooks' routes take and answer (PROTOCOL.md section 12).

A registration is validated here, strictly, before any address is resolved: an ``http`` or
``https`` URL with a host (at most 2048 characters), a non-empty list of the four event names
without repeats, and a secret of 1-256 characters. Anything else is ``invalid``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints

from server.chat.schemas import In, Out

EventName = Literal["message", "mention", "reaction", "member"]
MAX_URL = 2048


def _web_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the URL must be http:// or https:// with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL may not carry a user name or password")
    del port
    return value


def _distinct(value: list[EventName]) -> list[EventName]:
    if len(set(value)) != len(value):
        raise ValueError("each event may be named once")
    return value


WebhookUrl = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL), AfterValidator(_web_url)]
Events = Annotated[list[EventName], Field(min_length=1, max_length=4), AfterValidator(_distinct)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class WebhookIn(In):
    url: WebhookUrl
    events: Events
    secret: Secret


class WebhookCreated(Out):
    id: str


class WebhookOut(Out):
    id: str
    url: str
    events: list[str]
    created_at: str


class WebhooksOut(Out):
    webhooks: list[WebhookOut]


class DeliveryOut(Out):
    id: str  # the delivery id (``X-Parley-Delivery``) the attempt was for
    event: str
    attempt: int
    at: str
    status: Literal["ok", "failed", "pending"]
    code: int | None


class DeliveriesOut(Out):
    deliveries: list[DeliveryOut]
