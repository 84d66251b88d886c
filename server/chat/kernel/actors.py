"""Who acts: the authenticated user behind a request or a socket.

A leaf of the kernel, so that every capability can name the actor without importing the
accounts service (``users.py`` imports presence, presence imports blocking, and blocking's
service takes an actor: with ``Actor`` in ``users.py`` that was a circle)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The authenticated user behind a request or a socket: ``bot`` for a bot account, and
    ``token_id`` when it authenticated with an API token (PROTOCOL.md section 12): revoking that
    token closes the connections that carry it."""

    id: int
    username: str
    bot: bool = False
    token_id: str | None = None
