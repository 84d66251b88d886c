"""The accounts' tables: users, the words the directory finds them by, and single sign-on's
identities, sign-ins under way and one-time login codes (DESIGN.md "Data model").

Names are matched case-insensitively but stored as given: each such table keeps a lower-cased
``*_key`` column with the unique constraint, which works the same on SQLite and PostgreSQL
without expression indexes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32)
    username_key: str = Field(max_length=32, unique=True)
    password_hash: str = Field(max_length=128)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seen_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    token_version: int = Field(default=0)
    # When its tokens were last revoked (a logout, a disable, the server API's disconnect): what
    # refuses a token the application signed before then (PROTOCOL.md section 17), which carries
    # no token version.
    tokens_revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Set by an operator (``parley user disable``): no login, no connection, until enabled again.
    disabled_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Set by ``parley user delete``: the row stays as a placeholder its messages stay attributed to.
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # PROTOCOL.md section 12: a bot account has no password (it uses API tokens) and an owner.
    bot: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    owner_id: int | None = None  # the bot's owner (a plain id: migration 0010 says why)
    # PROTOCOL.md section 14: the profile, the status and the availability the user chose.
    display_name: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    title: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    timezone: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    avatar_file_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    status_emoji: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    status_text: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    status_expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    availability: str = Field(
        default="auto", sa_column=Column(String(8), nullable=False, server_default="auto")
    )
    # Away from activity, for every node: when a socket of the user last sent an event (written
    # at most every few seconds), and whether the user went idle (set by the node that saw it).
    last_active_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    idle: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    # PROTOCOL.md section 19: the workspace role, owner, admin or member (the first account owns).
    role: str = Field(default="member", sa_column=Column(String(16), nullable=False, server_default="member"))
    # PROTOCOL.md section 16: set when the erasure of the account finished (``ErasureJob``).
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


# Words compared byte by byte on PostgreSQL ("C"), so a prefix is a range of the index whatever the
# database's locale; SQLite compares bytes anyway.
WORD = String(64).with_variant(String(64, collation="C"), "postgresql")


class UserWord(SQLModel, table=True):
    """The directory's index (PROTOCOL.md section 14): each word of a user's username and display
    name, case-folded and without accents; ``users:search`` reads a range of it by prefix."""

    __tablename__ = "user_words"
    __table_args__ = (Index("ix_user_words_user", "user_id"),)

    word: str = Field(sa_column=Column(WORD, primary_key=True))
    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))


class Identity(SQLModel, table=True):
    """An account's link to an OpenID Connect provider's user (PROTOCOL.md section 14): the
    provider's issuer and subject, never its username or email."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("issuer", "subject", name="uq_identities_issuer_subject"),
        Index("ix_identities_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    user_id: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class OidcFlow(SQLModel, table=True):
    """A sign-in under way: its ``state``, ``nonce`` and PKCE verifier, taken once by the callback
    (on whichever node it lands)."""

    __tablename__ = "oidc_flows"

    state: str = Field(primary_key=True, max_length=64)
    nonce: str = Field(max_length=64)
    verifier: str = Field(max_length=128)
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    invite: str | None = Field(default=None, max_length=128)


class LoginCode(SQLModel, table=True):
    """The one-time code the callback hands the page (60 s, once) for a token: only its SHA-256."""

    __tablename__ = "login_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    user_id: int
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# Sessions that last and password resets (PROTOCOL.md section 19) keep their tables beside their
# repository (``db/accounts/sessions.py``); imported here so that ``db/models.py`` finds them.
from db.accounts import sessions as _sessions  # noqa: E402, F401
