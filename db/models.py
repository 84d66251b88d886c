"""SQLModel tables (DESIGN.md "Data model").

Names are matched case-insensitively but stored as given: each such table
keeps a lower-cased ``*_key`` column with the unique constraint, which works
the same on SQLite and PostgreSQL without expression indexes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
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
    # PROTOCOL.md section 16: set when the erasure of the account finished (``ErasureJob``).
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class Topic(SQLModel, table=True):
    __tablename__ = "topics"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=80, unique=True)
    kind: str = Field(max_length=8)
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seq: int = Field(default=0)
    # Moderation (PROTOCOL.md section 10): what ``topic:update`` sets, and when it was archived.
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    archived_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Retention (PROTOCOL.md section 16): days its messages are kept (None: the server's setting).
    retention_days: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_user_id", "user_id"),)

    topic_id: int = Field(foreign_key="topics.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    role: str = Field(default="member", max_length=16)  # owner, admin, moderator or member
    joined_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    delivered_seq: int = Field(default=0)
    read_seq: int = Field(default=0)
    # PROTOCOL.md section 8: ``all``, ``mentions`` or ``none`` (badges and outgoing notifications).
    notify_level: str = Field(
        default="all", sa_column=Column(String(8), nullable=False, server_default="all")
    )
    # A mute (PROTOCOL.md section 10): since when, and until when (None: until unmuted).
    muted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    muted_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("topic_id", "seq", name="uq_messages_topic_seq"),
        UniqueConstraint("sender_id", "client_id", name="uq_messages_sender_client"),
        # Most messages quote nothing and start no thread: only the rows that do are indexed (0014).
        Index(
            "ix_messages_reply_to_id",
            "reply_to_id",
            sqlite_where=text("reply_to_id IS NOT NULL"),
            postgresql_where=text("reply_to_id IS NOT NULL"),
        ),
        Index(
            "ix_messages_thread",
            "thread_root_id",
            "id",
            sqlite_where=text("thread_root_id IS NOT NULL"),
            postgresql_where=text("thread_root_id IS NOT NULL"),
        ),
        # Messages whose link previews are still to be made (PROTOCOL.md section 13): the previews'
        # queue is this index (0024); a message leaves it when its previews (``[]`` for none) are kept.
        Index(
            "ix_messages_previews_waiting",
            "id",
            sqlite_where=text("links IS NOT NULL AND previews IS NULL"),
            postgresql_where=text("links IS NOT NULL AND previews IS NULL"),
        ),
        # Search results come newest first (PROTOCOL.md section 9). The full-text index itself is
        # not declared here: ``db/search/`` and migration 0008 own it.
        Index("ix_messages_created", "created_at", "id"),
        # Unread and mention counts skip system messages and add ``@all`` ones: both are rare, so
        # partial indexes keep those counts to the few rows that are either.
        Index(
            "ix_messages_system",
            "topic_id",
            "seq",
            sqlite_where=text("type = 'system'"),
            postgresql_where=text("type = 'system'"),
        ),
        Index(
            "ix_messages_mentions_all",
            "topic_id",
            "seq",
            sqlite_where=text("mentions_all"),
            postgresql_where=text("mentions_all"),
        ),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
    topic_id: int = Field(foreign_key="topics.id")
    seq: int
    sender_id: int = Field(foreign_key="users.id")
    body: str
    client_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Conversations (PROTOCOL.md section 8). What a Message shows is kept on its row, so every
    # rendering (ack, live, backlog, recovery, history) reads one row and joins nothing:
    # ``reply_to`` is the quote as JSON (its excerpt is rewritten when the quoted message is
    # edited or deleted), the thread summary is kept on the root in the transaction of each
    # reply, edit or delete, ``reactions`` mirrors the reactions table in reaction order.
    reply_to_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    reply_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    thread_root_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    thread_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    thread_last_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    thread_participants: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    mentions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    mentions_all: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    reactions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    pinned: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    type: str = Field(default="text", sa_column=Column(String(8), nullable=False, server_default="text"))
    system: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Copied from the sender at insert (PROTOCOL.md section 12), so no rendering joins users for it.
    bot: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    # PROTOCOL.md section 11: the attached files' File objects as JSON (``db/extras.py``).
    files: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # PROTOCOL.md section 13: the body's links and their previews as rendered, both JSON; the
    # previews capability writes ``previews``; ``previews_off`` once the sender removed them.
    links: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previews: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previews_off: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )


class BotToken(SQLModel, table=True):
    """A bot's API token (PROTOCOL.md section 12): only its SHA-256 is kept; revoked ones stay."""

    __tablename__ = "bot_tokens"
    __table_args__ = (Index("ix_bot_tokens_user_id", "user_id"),)

    id: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="users.id")
    label: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Hook(SQLModel, table=True):
    """An incoming webhook of a topic: whoever has its URL posts as ``bot_id`` (section 12). Only
    the SHA-256 of the URL's secret is kept; a revoked hook stays, with ``revoked_at``."""

    __tablename__ = "hooks"
    __table_args__ = (Index("ix_hooks_topic_id", "topic_id"),)

    id: str = Field(primary_key=True, max_length=32)
    topic_id: int
    bot_id: int = Field(foreign_key="users.id")
    secret_hash: str = Field(max_length=64, unique=True)
    created_by: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    bot_made: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )


class Reaction(SQLModel, table=True):
    """One user's reaction with one emoji to one message (adding it twice stores it once)."""

    __tablename__ = "reactions"
    __table_args__ = (Index("ix_reactions_user", "user_id"),)  # an erasure's (PROTOCOL.md section 16)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    emoji: str = Field(sa_column=Column(String(32), primary_key=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Mention(SQLModel, table=True):
    """A member a message mentions by name, for the mention count above a read mark."""

    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_user_topic_seq", "user_id", "topic_id", "seq"),)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    user_id: int = Field(primary_key=True)
    topic_id: int
    seq: int


class Pin(SQLModel, table=True):
    """A pinned message of a topic (at most 50 per topic)."""

    __tablename__ = "pins"

    topic_id: int = Field(primary_key=True)
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    pinned_by: int
    pinned_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Ban(SQLModel, table=True):
    """A user banned from a topic: refused subscribe and invite until unbanned or ``until`` passes."""

    __tablename__ = "bans"

    topic_id: int = Field(primary_key=True)
    user_id: int = Field(primary_key=True)
    banned_by: int
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class Block(SQLModel, table=True):
    """``user_id`` blocked ``blocked_id`` (PROTOCOL.md section 10, blocking)."""

    __tablename__ = "blocks"
    __table_args__ = (Index("ix_blocks_blocked_id", "blocked_id"),)

    user_id: int = Field(primary_key=True)
    blocked_id: int = Field(primary_key=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Report(SQLModel, table=True):
    """A message reported to the operator (``parley reports``, the Admin UI)."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_created_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class EchoTranscript(SQLModel, table=True):
    __tablename__ = "echo_transcripts"
    __table_args__ = (Index("ix_echo_transcripts_user_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class RecoverySession(SQLModel, table=True):
    """A Socket.IO connection-state recovery session (PROTOCOL.md, "Connection-state recovery").

    ``pid`` is the private session id the client got in its CONNECT reply; ``seen_at`` is when a
    socket of that session was last known open (connect, disconnect, and a periodic refresh).
    """

    __tablename__ = "recovery_session"
    __table_args__ = (Index("ix_recovery_session_seen_at", "seen_at"),)

    pid: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id")
    seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Relay(SQLModel, table=True):
    """Domain events written by the command line for running servers without Redis to pick up.

    ``events`` is the hub codec's JSON (``server.adapters.cluster.codec``); the data layer only stores it.
    """

    __tablename__ = "relay"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    events: str = Field(sa_column=Column(Text, nullable=False))


class Node(SQLModel, table=True):
    """A running server's heartbeat: its open sockets and connected users, for ``parley stats``.

    Each server rewrites its row every few seconds and removes it when it stops; a row that
    stopped beating (a killed server) is ignored, then pruned by the next live server's beat.
    """

    __tablename__ = "node"

    name: str = Field(primary_key=True, max_length=255)
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    beat_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sockets: int = Field(sa_column=Column(Integer, nullable=False))
    users: int = Field(sa_column=Column(Integer, nullable=False))


class File(SQLModel, table=True):
    """An upload (PROTOCOL.md section 11): its blob is ``sha256`` in the file store, shared by every
    row of the same bytes; ``message_id`` is set once, by the send that attaches it."""

    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_uploader", "uploader_id", "created_at"),
        Index("ix_files_message", "message_id"),
        Index("ix_files_sha256", "sha256"),
    )

    id: str = Field(primary_key=True, max_length=32)
    uploader_id: int
    name: str = Field(max_length=255)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    content_type: str = Field(max_length=127)
    sha256: str = Field(max_length=64)
    width: int | None = None
    height: int | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # PROTOCOL.md section 14: set once the file became its uploader's avatar, and kept when it is
    # replaced (never swept); readable by every signed-in user only while it is the avatar.
    avatar: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )


class Webhook(SQLModel, table=True):
    """An outgoing webhook of a topic (PROTOCOL.md section 12). ``secret`` is kept: it signs every
    delivery. ``bot_id`` is the bot its answers are posted as (null until bot accounts exist)."""

    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_topic_id", "topic_id"),)

    id: str = Field(primary_key=True, max_length=32)
    topic_id: int
    url: str = Field(max_length=2048)
    events: list[str] = Field(sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=256)
    bot_id: int | None = Field(default=None)
    created_by: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    removed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class WebhookOutbox(SQLModel, table=True):
    """A delivery to make: written in the transaction of the event it tells, so a crash loses none.
    ``id`` is the delivery id (``X-Parley-Delivery``); ``body`` the exact bytes that are signed."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (Index("ix_webhook_outbox_due", "status", "next_at"),)

    id: str = Field(primary_key=True, max_length=32)
    webhook_id: str = Field(max_length=32)
    event: str = Field(max_length=16)
    body: str = Field(sa_column=Column(Text, nullable=False))
    trigger_message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    attempts: int = Field(default=0)
    next_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(max_length=8)
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One attempt at a delivery, for the webhook's delivery log (the newest 100 are listed)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: str = Field(max_length=32)
    webhook_id: str = Field(max_length=32)
    event: str = Field(max_length=16)
    attempt: int
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(max_length=8)
    code: int | None = Field(default=None)


class PreviewJob(SQLModel, table=True):
    """A message whose previews must be made again or later (PROTOCOL.md section 13): an edit's new
    links (written in the edit's transaction), a retry, or on PostgreSQL the lease of the node
    working on a new message (a new message waits in ``ix_messages_previews_waiting``, no row);
    a worker holds it while ``locked_until``."""

    __tablename__ = "preview_jobs"
    __table_args__ = (Index("ix_preview_jobs_due", "due_at"),)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    attempts: int = Field(default=0)


class LinkPreview(SQLModel, table=True):
    """The preview of one URL, cached for ``PARLEY_PREVIEW_TTL`` and shared by every message and
    node: ``state`` is ``fetching`` while one worker holds it (until ``locked_until``), ``ready``
    or ``none`` (no preview) until ``expires_at``. Keyed by the URL's SHA-256: a URL may be longer
    than an index entry may be."""

    __tablename__ = "link_previews"

    id: int | None = Field(default=None, primary_key=True)
    url_hash: str = Field(max_length=64, unique=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=8)
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    site_name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    image_id: int | None = Field(default=None)
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class PreviewImage(SQLModel, table=True):
    """A preview's picture as Parley re-encoded it; never changed (a refetch makes a new one), so a
    message keeps the picture it was shown with."""

    __tablename__ = "preview_images"

    id: int | None = Field(default=None, primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content_type: str = Field(max_length=16)
    width: int
    height: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class MessagePreviewImage(SQLModel, table=True):
    """Which messages show which preview picture: who may read a picture is who may read one of them."""

    __tablename__ = "message_preview_images"
    __table_args__ = (Index("ix_message_preview_images_image", "image_id"),)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    image_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))


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


class LoginCode(SQLModel, table=True):
    """The one-time code the callback hands the page (60 s, once) for a token: only its SHA-256."""

    __tablename__ = "login_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    user_id: int
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class NotificationPrefs(SQLModel, table=True):
    """A user's notification preferences and email address (PROTOCOL.md section 15); no row means
    the defaults. ``email_address`` is the address last given: only with ``email_verified_at`` set
    does it get mail. ``email_token`` is the nonce of the verification link last sent (cleared when
    it is used: a link works once, and only the latest one). ``last_digest_at`` spaces digests
    ``email_digest_minutes`` apart."""

    __tablename__ = "notification_prefs"

    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    push: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    email: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    email_digest_minutes: int = Field(default=60)
    quiet_from: str | None = Field(default=None, max_length=5)  # "HH:MM" in the profile's time zone
    quiet_to: str | None = Field(default=None, max_length=5)
    email_address: str | None = Field(default=None, max_length=254)
    email_token: str | None = Field(default=None, max_length=32)
    email_verified_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_digest_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Signed into unsubscribe links and bumped when email is turned back on: older links are void.
    email_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))


class PushSubscription(SQLModel, table=True):
    """A browser's push subscription (RFC 8030): its endpoint and the keys its pushes are encrypted
    for (RFC 8291). One row per endpoint (``endpoint_key``: its SHA-256, an endpoint may be longer
    than an index entry may be): a browser that subscribes again, for whoever, replaces it."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_user", "user_id"),)

    id: str = Field(primary_key=True, max_length=32)
    user_id: int
    endpoint: str = Field(sa_column=Column(Text, nullable=False))
    endpoint_key: str = Field(max_length=64, unique=True)
    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class NotifyJob(SQLModel, table=True):
    """A message that may notify someone (a direct message, or one that mentions): written in its
    send batch's transaction; due ``PARLEY_PUSH_DELAY`` after the send, when the notifier decides
    who gets what. A worker holds it while ``locked_until``."""

    __tablename__ = "notify_jobs"
    __table_args__ = (Index("ix_notify_jobs_due", "due_at"),)

    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    attempts: int = Field(default=0)


class PushOutbox(SQLModel, table=True):
    """One push to send: a message to one subscription, at most once (the unique pair). ``payload``
    is the JSON before encryption (encrypted afresh at each attempt); ``status`` is ``pending``,
    ``ok`` or ``failed``."""

    __tablename__ = "push_outbox"
    __table_args__ = (
        UniqueConstraint("subscription_id", "message_id", name="uq_push_outbox_subscription_message"),
        Index("ix_push_outbox_due", "status", "next_at"),
        Index("ix_push_outbox_message", "message_id"),  # the retention sweep (0020)
    )

    id: str = Field(primary_key=True, max_length=32)
    subscription_id: str = Field(max_length=32)
    user_id: int
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=8)
    attempts: int = Field(default=0)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    next_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class EmailPending(SQLModel, table=True):
    """A message a user may get in an email digest: due ``PARLEY_EMAIL_DELAY`` after the send; the
    digest takes the user's due rows, drops those read or deleted meanwhile, and removes them."""

    __tablename__ = "email_pending"
    __table_args__ = (
        Index("ix_email_pending_due", "due_at"),
        Index("ix_email_pending_message", "message_id"),  # the retention sweep (0020)
    )

    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class MailOutbox(SQLModel, table=True):
    """One mail to send (a verification or a digest), the whole RFC 5322 message as written, so a
    retry sends the same bytes; ``status`` is ``pending``, ``ok`` or ``failed``."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_at"),)

    id: str = Field(primary_key=True, max_length=32)
    user_id: int | None = Field(default=None)
    kind: str = Field(max_length=8)  # ``verify`` or ``digest``
    to_address: str = Field(max_length=254)
    content: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=8)
    attempts: int = Field(default=0)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    next_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Export(SQLModel, table=True):
    """A user's export of their data (PROTOCOL.md section 16): ``pending`` until a worker built its
    ZIP (``ready``, ``size`` bytes at ``<data_dir>/exports/<id>.zip``) or gave up (``failed``). A
    worker holds it while ``locked_until``; rows and files go 7 days after ``requested_at``."""

    __tablename__ = "exports"
    __table_args__ = (
        Index("ix_exports_user", "user_id", "requested_at"),
        Index("ix_exports_state", "state", "requested_at"),
    )

    id: str = Field(primary_key=True, max_length=32)
    user_id: int
    state: str = Field(max_length=8)
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ready_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    attempts: int = Field(default=0)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class AuditEntry(SQLModel, table=True):
    """One audit row (PROTOCOL.md section 16): who did what, on what, where, written in the
    action's own transaction. ``actor_id`` is the user who acted, None for the operator (the
    command line, the Admin UI); ``actor`` is the name as it was then (``actor_key`` lower-cased,
    for the filter). ``topic`` is the topic's name as it was, never a key: rows outlive topics."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at", "id"),
        Index("ix_audit_log_actor", "actor_key", "at"),
        Index("ix_audit_log_action", "action", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor_id: int | None = Field(default=None)
    actor: str = Field(max_length=64)
    actor_key: str = Field(max_length=64)
    action: str = Field(max_length=32)
    target: str | None = Field(default=None, max_length=255)
    topic: str | None = Field(default=None, max_length=255)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ErasureJob(SQLModel, table=True):
    """An account being erased (PROTOCOL.md section 16): written with the account's disabling, taken
    by one node's worker at a time (``locked_until``), removed when the erasure finished. What
    makes an erasure resume after a crash."""

    __tablename__ = "erasure_jobs"

    user_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
