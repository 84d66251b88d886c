"""DTOs of integrations (PROTOCOL.md section 12): bots, their API tokens, incoming webhooks
(hooks) and outgoing webhooks.

An outgoing webhook's registration is validated here, strictly, before any address is resolved:
an ``http`` or ``https`` URL with a host (at most 2048 characters), a non-empty list of the four
event names without repeats, and a secret of 1-256 characters. Anything else is ``invalid``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints

from server.chat.kernel.schemas import In, Out, Username, check_text

Label = Annotated[str, StringConstraints(max_length=64), AfterValidator(check_text)]


class BotIn(In):
    username: Username


class TokenIn(In):
    label: Label = ""


class BotOut(Out):
    username: str
    bot: Literal[True] = True
    owner: str | None


class BotsOut(Out):
    bots: list[BotOut]


class TokenCreatedOut(Out):
    """The token itself: shown this once, never again (only its hash is kept)."""

    id: str
    token: str


class TokenInfoOut(Out):
    id: str
    label: str
    created_at: str


class TokensOut(Out):
    tokens: list[TokenInfoOut]


class BotRowOut(Out):
    """A bot as ``parley bot list`` shows it."""

    username: str
    owner: str | None
    state: Literal["active", "disabled"]
    created_at: str


class BotRowsOut(Out):
    bots: list[BotRowOut]


# Incoming webhooks --------------------------------------------------------------------


class HookIn(In):
    """``bot``: one of the caller's bots to post as; none: a bot is made for the hook."""

    bot: Username | None = None


class HookCreatedOut(Out):
    """``url`` holds the secret: shown this once, never again (only its hash is kept)."""

    id: str
    url: str


class HookInfoOut(Out):
    id: str
    bot: str
    created_at: str


class HooksOut(Out):
    hooks: list[HookInfoOut]


class HookPostedOut(Out):
    """What ``POST /hooks/<secret>`` stored (or, for a repeated ``Idempotency-Key``, had stored)."""

    id: int
    seq: int


# Outgoing webhooks --------------------------------------------------------------------

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
