"""What the repositories hand out: frozen values, not ORM rows.

A stored row always has its id, so every id here is an ``int`` (the tables' ``int | None`` is
only true of a row not yet inserted). The domain reads these and never changes them: a change
goes through a repository method, in a transaction (``db/uow.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


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


@dataclass(frozen=True, slots=True)
class TopicRecord:
    id: int
    name: str  # as given; a direct conversation's is ``dm:<low id>:<high id>``
    kind: str  # ``public``, ``private`` or ``direct``
    owner_id: int | None
    created_at: datetime
    last_seq: int
    description: str = ""
    archived_at: datetime | None = None
    retention_days: int | None = None  # PROTOCOL.md section 16 (None: the server's setting)


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    topic_id: int
    user_id: int
    role: str  # ``owner`` or ``member``
    joined_at: datetime
    delivered_seq: int
    read_seq: int
    notify_level: str = "all"  # ``all``, ``mentions`` or ``none`` (PROTOCOL.md section 8)
    muted_at: datetime | None = None  # a mute (section 10), until ``muted_until`` (None: until unmuted)
    muted_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """What a reply shows of the message it quotes (its excerpt is ``""`` once that is deleted)."""

    id: int
    sender: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """Kept on a thread's root: replies not deleted, the newest one's time, the last repliers."""

    count: int
    last_at: datetime | None
    participants: tuple[str, ...]  # at most 10 names, most recent first


@dataclass(frozen=True, slots=True)
class ReactionState:
    """Everyone who reacted to a message with one emoji, in reaction order: (user id, name)."""

    emoji: str
    users: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class Extras:
    """What a message carries besides its body (PROTOCOL.md section 8): one value per row, shared
    (``PLAIN``) by the many messages that have none of it."""

    reply_to: Quote | None = None
    thread_root_id: int | None = None
    thread: ThreadSummary | None = None
    mentions: tuple[str, ...] = ()
    mentions_all: bool = False
    reactions: tuple[ReactionState, ...] = ()
    pinned: bool = False
    type: str = "text"  # or ``system``
    system: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    bot: bool = False  # sent by a bot account (PROTOCOL.md section 12)
    # PROTOCOL.md section 11: the attached files' File objects, as rendered (stored as JSON)
    files: tuple[dict[str, Any], ...] = field(default=(), hash=False, compare=False)
    # PROTOCOL.md section 13: the body's http(s) links, and the previews made of them, as rendered
    links: tuple[str, ...] = ()
    previews: tuple[dict[str, Any], ...] = field(default=(), hash=False, compare=False)


PLAIN = Extras()

# ``PLAIN``'s fields but ``links``, each with the setter of its slot (for ``links_only``).
_PLAIN_BUT_LINKS = tuple(
    (getattr(Extras, f.name).__set__, getattr(PLAIN, f.name)) for f in fields(Extras) if f.name != "links"
)
_SET_LINKS = Extras.links.__set__  # type: ignore[misc,attr-defined]  # (the slot's member descriptor)


def links_only(links: tuple[str, ...]) -> Extras:
    """``Extras(links=links)``, the extras of most messages that have any, at 40% of its cost.

    A frozen dataclass sets each field in ``__init__`` through ``object.__setattr__`` (about 150 ns
    each, 2 us for the 13 of ``Extras``: the dearest step of a link send's own work); this sets the
    slots through their descriptors. tests/db/test_records.py holds it equal to the constructor.
    """
    extras: Extras = object.__new__(Extras)
    for set_slot, value in _PLAIN_BUT_LINKS:
        set_slot(extras, value)
    _SET_LINKS(extras, links)
    return extras


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    topic_id: int
    seq: int
    sender_id: int
    body: str
    client_id: str | None
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    extras: Extras = PLAIN


@dataclass(frozen=True)
class Credentials:
    id: int
    username: str
    token_version: int
    active: bool = True  # False once disabled or deleted by an operator
    bot: bool = False  # a bot account (PROTOCOL.md section 12)


@dataclass(frozen=True)
class BacklogEntry:
    """A message of a backlog with what it is shown with: sender, topic, other member of a DM."""

    id: int
    topic_id: int
    seq: int
    sender: str
    body: str
    client_id: str | None
    created_at: datetime
    edited_at: datetime | None
    topic_name: str
    topic_kind: str
    peer: str | None
    extras: Extras = PLAIN
    blocked: bool = False  # the recipient blocked the sender (PROTOCOL.md section 10)


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
class NodeRecord:
    """A running server's last heartbeat (``server.chat.operators.nodes``)."""

    name: str
    started_at: datetime
    beat_at: datetime
    sockets: int
    users: int


@dataclass(frozen=True, slots=True)
class RecoveryRecord:
    """A Socket.IO recovery session: its private id, its user, when a socket of it was last open."""

    pid: str
    user_id: int
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """A reported message (PROTOCOL.md section 10) with what the operator is shown of it; the
    message's fields are None once its topic is deleted."""

    id: int
    created_at: datetime
    reporter: str | None
    reason: str
    message_id: int
    topic_name: str | None
    topic_kind: str | None
    seq: int | None
    sender: str | None
    body: str | None
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class FileRecord:
    """An uploaded file (PROTOCOL.md section 11); ``message_id`` once a send attached it."""

    id: str  # uuid4 hex
    uploader_id: int
    name: str
    size: int
    content_type: str
    sha256: str
    width: int | None
    height: int | None
    created_at: datetime
    message_id: int | None = None
    avatar: bool = False  # someone's avatar, now or before (PROTOCOL.md section 14): any reader


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


@dataclass(frozen=True, slots=True)
class NotifyJobRow:
    """A message that may notify someone (PROTOCOL.md section 15), written with it in its
    transaction: the notifier looks at it at ``due_at``."""

    message_id: int
    due_at: datetime


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


@dataclass(frozen=True, slots=True)
class SignInFlow:
    """A single sign-on under way (PROTOCOL.md section 14): what the callback must find again."""

    state: str
    nonce: str
    verifier: str  # the PKCE code verifier; only its S256 challenge leaves the server
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One row of the audit log (PROTOCOL.md section 16); ``actor_id`` None for the operator."""

    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    target: str | None
    topic: str | None
    details: dict[str, Any]
