"""DTOs of bots, their API tokens and incoming webhooks (PROTOCOL.md section 12)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints

from server.chat.schemas import In, Out, Username, check_text

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
