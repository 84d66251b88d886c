"""What the conversations' repositories hand out: frozen values, not ORM rows (``db/records.py``
says why): topics, memberships, messages and what a message carries besides its body."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


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
PLAIN_BOT = Extras(bot=True)
"""A bot's message with nothing of section 8, shared as ``PLAIN`` is: every message a backend
publishes (PROTOCOL.md section 17) is one."""

# ``PLAIN``'s fields but ``links`` and ``bot``, each with the setter of its slot (for ``links_only``).
_PLAIN_BUT_LINKS = tuple(
    (getattr(Extras, f.name).__set__, getattr(PLAIN, f.name))
    for f in fields(Extras)
    if f.name not in ("links", "bot")
)
_SET_LINKS = Extras.links.__set__  # type: ignore[misc,attr-defined]  # (the slot's member descriptor)
_SET_BOT = Extras.bot.__set__  # type: ignore[misc,attr-defined]


def links_only(links: tuple[str, ...], bot: bool = False) -> Extras:
    """``Extras(links=links, bot=bot)``, the extras of most messages that have any, at 40% of its cost.

    A frozen dataclass sets each field in ``__init__`` through ``object.__setattr__`` (about 150 ns
    each, 2 us for the 13 of ``Extras``: the dearest step of a link send's own work); this sets the
    slots through their descriptors. tests/db/test_records.py holds it equal to the constructor.
    """
    extras: Extras = object.__new__(Extras)
    for set_slot, value in _PLAIN_BUT_LINKS:
        set_slot(extras, value)
    _SET_LINKS(extras, links)
    _SET_BOT(extras, bot)
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
