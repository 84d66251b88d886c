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
    session_id: str | None = None  # the session (PROTOCOL.md section 19) its token belongs to, if any


@dataclass(frozen=True)
class Doer:
    """Who an audit row names (PROTOCOL.md section 16): a user (``id``), or the operator (``id``
    None) at the command line (``CLI``) or in the Admin UI (``admin_ui``). ``name`` is kept as it
    was: a later rename or deletion does not rewrite the log."""

    id: int | None
    name: str

    @classmethod
    def of(cls, actor: Actor) -> Doer:
        return cls(actor.id, actor.username)


CLI = Doer(None, "cli")
"""The operator at the command line (``parley user|topic|bot|search ...``)."""


def admin_ui(username: str | None) -> Doer:
    """The operator signed in to the Admin UI as ``username`` (a colon: no user can be named so);
    None: someone whose sign-in was refused (``admin-ui``: what they typed is never kept)."""
    return Doer(None, "admin-ui" if username is None else f"admin-ui:{username}")
