"""What the accounts' repositories hand out: frozen values, not ORM rows (``db/records.py`` says
why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    password_hash: str
    created_at: datetime
    token_version: int
    last_seen_at: datetime | None = None
    disabled_at: datetime | None = None  # ``parley user disable``: no login, no connection
    deleted_at: datetime | None = None  # ``parley user delete``: a placeholder its messages keep
    bot: bool = False  # a bot account (PROTOCOL.md section 12): no password, an owner
    owner_id: int | None = None
    # PROTOCOL.md section 14: what a Profile shows besides presence
    display_name: str = ""
    title: str = ""
    timezone: str = ""
    avatar_file_id: str | None = None
    status_emoji: str | None = None
    status_text: str | None = None  # None: no status
    status_expires_at: datetime | None = None
    availability: str = "auto"  # what the user chose: auto, away or dnd
    idle: bool = False  # no event from any socket of the user for PARLEY_AWAY_AFTER
    role: str = "member"  # PROTOCOL.md section 19: the workspace role, owner, admin or member


@dataclass(frozen=True)
class Credentials:
    id: int
    username: str
    token_version: int
    active: bool = True  # False once disabled or deleted by an operator
    bot: bool = False  # a bot account (PROTOCOL.md section 12)
    tokens_revoked_at: datetime | None = None  # refuses the application's tokens issued before


@dataclass(frozen=True, slots=True)
class SignInFlow:
    """A single sign-on under way (PROTOCOL.md section 14): what the callback must find again."""

    state: str
    nonce: str
    verifier: str  # the PKCE code verifier; only its S256 challenge leaves the server
    expires_at: datetime
    invite: str | None = None  # the invitation's code the sign-in started from (section 19)
