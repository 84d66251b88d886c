"""DTOs of the server keys (PROTOCOL.md section 17)."""

from __future__ import annotations

from server.chat.kernel.schemas import Out


class KeyCreatedOut(Out):
    """The key itself: shown this once, never again (only its hash is kept)."""

    id: str
    key: str
    label: str
    scopes: list[str]


class KeyInfoOut(Out):
    id: str
    label: str
    scopes: list[str]
    bot: str
    created_at: str


class KeysOut(Out):
    keys: list[KeyInfoOut]
