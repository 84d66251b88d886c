"""The DTOs' kernel: the bases of what comes in (validated strictly) and what goes out, the
rules every capability's fields share, and the shapes the domain's events carry.

Input models are strict (no coercion of ``"5"`` to ``5`` or ``1`` to
``True``) so a wrong type is ``invalid`` rather than silently accepted.
Unknown fields are ignored. Names follow PROTOCOL.md section 3.

Here: ``In`` and ``Out``, the text and body rules (``check_text``, ``check_body``), names,
ids and client ids, a ``Target`` and the models that take one, and the Topic, Message,
Quote, Reaction and thread summary objects (``events.py`` and ``views.py`` build them).
Every other DTO is in the ``schemas.py`` of the capability whose service takes or
answers it (``accounts/schemas.py``, ``conversations/schemas.py``, ...).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

NAME_CHARS = r"[A-Za-z0-9_.\-]"
TopicName = Annotated[str, StringConstraints(pattern=rf"^{NAME_CHARS}{{1,64}}$")]
Username = Annotated[str, StringConstraints(pattern=rf"^{NAME_CHARS}{{3,32}}$")]
# Every integer we store is a signed 64-bit column on both databases: a larger one is ``invalid``
# here rather than an OverflowError in the driver.
MAX_STORED_INT = 2**63 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_STORED_INT)]
Seq = Annotated[int, Field(ge=0, le=MAX_STORED_INT)]
MAX_BODY_CHARS = 4000


# Unicode's control characters (category Cc) but tab and line breaks; a regex scans in C.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_text(value: str) -> str:
    """Text both databases store alike: valid Unicode (no lone surrogate) and no control character.

    PostgreSQL refuses NUL in text and UTF-8 has no encoding for a lone surrogate; SQLite would
    store the first and fail on the second, so the rule is made here, once, for both.
    """
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogate)") from None
    if CONTROL.search(value):
        raise ValueError("must not contain control characters such as NUL")
    return value


# Letters that render as blank space (Hangul fillers, the braille pattern with no dots): not
# whitespace to Unicode, yet they show nothing.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Categories that show nothing on their own: separators, controls, format characters (zero-width
# space, joiners, BOM, tags), unassigned code points, surrogates and combining marks (a mark needs
# a base). A private-use character is left visible: fonts draw icons there.
SHOWS_NOTHING = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cn", "Cs", "Mn", "Mc", "Me"})
# Bidi embeddings, overrides (U+202A-U+202E) and isolates (U+2066-U+2069): they reorder what follows,
# so "invoice<RLO>fdp.exe" reads as "invoiceexe.pdf". The marks LRM/RLM (U+200E/F) stay allowed.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def visible(char: str) -> bool:
    """A character that shows something on its own: not blank, not only a mark or a format code."""
    return char not in BLANK_LETTERS and unicodedata.category(char) not in SHOWS_NOTHING


def check_body(value: str) -> str:
    """The one body rule (PROTOCOL.md section 3), used by every path that stores a body (each
    transport's send and edit models): at least one visible character, at most 4000 code points, no
    bidi override or isolate, and text both databases store (``check_text``).

    ``any`` stops at the first visible character, so a real message costs a step or two.
    """
    if not any(visible(char) for char in value):
        raise ValueError("must not be empty or only whitespace or invisible characters")
    if len(value) > MAX_BODY_CHARS:
        raise ValueError(f"must be at most {MAX_BODY_CHARS} characters")
    _check_bidi(value)
    return check_text(value)


def _check_bidi(value: str) -> None:
    if BIDI_CONTROLS.search(value):
        raise ValueError(
            "must not contain bidirectional override or isolate characters (U+202A-U+202E, U+2066-U+2069)"
        )


def check_emoji(value: str) -> str:
    """An emoji or a ``:name:`` shortcode: 1-32 characters, no whitespace, something visible, no
    bidi override or isolate as in a body (a reaction, PROTOCOL.md section 8; a status's emoji,
    section 14: both are shown beside names and text, which they would reorder)."""
    if any(char.isspace() or unicodedata.category(char).startswith("Z") for char in value):
        raise ValueError("must not contain whitespace")
    if not any(visible(char) for char in value):
        raise ValueError("must show something")
    _check_bidi(value)
    return check_text(value)


Emoji = Annotated[str, StringConstraints(min_length=1, max_length=32), AfterValidator(check_emoji)]


def _check_client_id(value: str) -> str:
    if "\t" in value or "\n" in value or "\r" in value:
        raise ValueError("must not contain control characters")
    return check_text(value)


ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_client_id)]


class In(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True, frozen=True)


# Targets ----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where an action goes: a named topic, or the direct conversation with a user."""

    topic: str | None = None
    user: str | None = None

    def describe(self) -> str:
        return f"@{self.user}" if self.user else str(self.topic)


TOPIC_ALIASES = AliasChoices("topic", "topic_name")
"""The names a payload may give a topic under (the original protocol's ``topic_name`` too)."""


class _OneTarget(In):
    """Exactly one of a topic or a user (``to`` or ``with`` depending on the event)."""

    topic: TopicName | None = Field(default=None, validation_alias=TOPIC_ALIASES)

    def _user(self) -> str | None:
        raise NotImplementedError

    @model_validator(mode="after")
    def _exactly_one(self) -> _OneTarget:
        if (self.topic is None) == (self._user() is None):
            raise ValueError("exactly one of 'topic' and a user ('to' or 'with') is required")
        return self

    @property
    def target(self) -> Target:
        return Target(topic=self.topic, user=self._user())


class ToTarget(_OneTarget):  # a topic or a user (``to``)
    to: Username | None = None

    def _user(self) -> str | None:
        return self.to


class WithTarget(_OneTarget):  # a topic or a user (``with``)
    with_: Username | None = Field(default=None, alias="with")

    def _user(self) -> str | None:
        return self.with_


class EmptyIn(In):
    pass


# Results ----------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class TopicOut(Out):
    name: str
    kind: Literal["public", "private", "direct"]
    owner: str | None
    created_at: str
    members: int
    online: int
    subscribed: bool
    last_seq: int
    unread: int
    read_seq: int = 0  # the user's read mark: the page's "New messages" line goes after it
    mentions: int = 0  # unread messages that mention the user (or ``@all``)
    notify: Literal["all", "mentions", "none"] = "all"
    description: str = ""  # PROTOCOL.md section 10 (``topic:update``)
    archived: bool = False
    retention_days: int | None = None  # PROTOCOL.md section 16: the topic's own (None: the server's)
    # The user's rank there when it is admin or moderator (the owner is ``owner``; None for a member
    # or a non-member): what a page may offer without asking ``topic:members`` for every member,
    # which in #lobby is every account
    role: Literal["admin", "moderator"] | None = None


class QuoteOut(Out):
    """The message a reply quotes: its excerpt is the first 100 characters, ``""`` once deleted."""

    id: int
    sender: str
    excerpt: str


class ThreadSummaryOut(Out):
    count: int
    last_at: str | None
    participants: list[str]


class ReactionOut(Out):
    """One emoji on a message; ``me`` is as seen by whoever receives the object."""

    emoji: str
    count: int
    users: list[str]
    me: bool


class PreviewImageOut(Out):
    url: str  # Parley's own copy: /api/previews/{id}/image
    width: int
    height: int


class PreviewOut(Out):
    """A link's preview as the server made it (PROTOCOL.md section 13): plain text, never markup."""

    url: str
    title: str
    description: str = ""
    site_name: str = ""
    image: PreviewImageOut | None = None


class MessageOut(Out):
    id: int
    topic: str
    kind: Literal["public", "private", "direct"]
    seq: int
    sender: str
    body: str
    created_at: str
    edited_at: str | None
    client_id: str | None
    deleted: bool = False
    # PROTOCOL.md section 8 (always present; the defaults are a plain text message's).
    reply_to: QuoteOut | None = None
    thread: int | None = None
    thread_summary: ThreadSummaryOut | None = None
    reactions: list[ReactionOut] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    mentions_all: bool = False
    pinned: bool = False
    files: list[dict[str, Any]] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)  # PROTOCOL.md section 13
    previews: list[PreviewOut] = Field(default_factory=list)
    type: Literal["text", "system"] = "text"
    system: dict[str, Any] | None = None
    blocked: bool = False  # PROTOCOL.md section 10: true only as seen by a user who blocked the sender
    bot: bool = False  # PROTOCOL.md section 12: sent by a bot account

    @cached_property
    def wire(self) -> dict[str, Any]:
        """The JSON form, made once: a send's ack and its event share it (build copies anew)."""
        return self.model_dump(mode="json")


class AvatarOut(Out):
    url: str
    thumbnail_url: str


class StatusOut(Out):
    emoji: str | None
    text: str
    expires_at: str | None


Availability = Literal["online", "away", "dnd", "offline"]
WorkspaceRole = Literal["owner", "admin", "member"]  # PROTOCOL.md section 19


class ProfileOut(Out):
    """A person as another sees them (PROTOCOL.md section 14): ``availability`` and ``last_seen``
    only as the presence rule (section 4) lets the viewer see them, else null; ``online`` as the
    profile had it before section 14, under the same rule."""

    username: str
    display_name: str
    avatar: AvatarOut | None
    title: str
    timezone: str
    status: StatusOut | None
    availability: Availability | None
    last_seen: str | None
    bot: bool
    created_at: str
    online: bool | None
    role: WorkspaceRole = "member"  # the workspace role (PROTOCOL.md section 19)

    @cached_property
    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Empty(Out):
    pass
