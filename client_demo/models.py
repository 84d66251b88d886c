"""Wire shapes (PROTOCOL.md section 3) and the checks that admit them.

Payloads from the server are JSON; these TypedDicts give them names, and the
``as_*`` functions check the fields the client relies on before it trusts a
payload (a malformed one becomes ``ClientError("bad_reply", ...)`` or is
dropped, never a ``KeyError`` deep inside the REPL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, cast

from client_demo.errors import ClientError


class ReplyTo(TypedDict):
    id: int
    sender: str
    excerpt: str


class ThreadSummary(TypedDict):
    count: int
    last_at: str | None
    participants: list[str]


class Reaction(TypedDict):
    emoji: str
    count: int
    users: list[str]
    me: bool


class PreviewImage(TypedDict):
    url: str  # served by Parley (/api/previews/{id}/image), never the linked site
    width: int
    height: int


class Preview(TypedDict):
    """A link's preview (PROTOCOL.md section 13); the texts come from the linked page: untrusted."""

    url: str
    title: str
    description: str | None
    site_name: str | None
    image: PreviewImage | None


class SystemInfo(TypedDict):
    """A system message's details (PROTOCOL.md sections 8 and 10); only ``action`` is always there."""

    action: str
    actor: str
    id: NotRequired[int]  # pin, unpin: the message
    target: NotRequired[str]  # role, kick, ban, unban, mute, unmute: the member acted on
    reason: NotRequired[str]
    until: NotRequired[str]  # a ban or mute that ends by itself


class Message(TypedDict):
    id: int
    topic: str
    kind: str
    seq: int
    sender: str
    body: str | None
    created_at: str
    edited_at: str | None
    client_id: str | None
    # PROTOCOL.md section 8 (conversations). Always sent by a server that has it; the
    # client reads them with .get() and checks each before use (an older server lacks them).
    reply_to: NotRequired[ReplyTo | None]
    thread: NotRequired[int | None]
    thread_summary: NotRequired[ThreadSummary | None]
    reactions: NotRequired[list[Reaction]]
    mentions: NotRequired[list[str]]
    mentions_all: NotRequired[bool]
    pinned: NotRequired[bool]
    type: NotRequired[str]
    system: NotRequired[SystemInfo | None]
    blocked: NotRequired[bool]  # section 10: true only for me, when I block the sender
    bot: NotRequired[bool]  # section 12: sent by a bot account
    links: NotRequired[list[str]]  # section 13: the body's http(s) URLs, at most 5
    previews: NotRequired[list[Preview]]  # section 13: filled after the send (``message:previews``)


class Topic(TypedDict):
    name: str
    kind: str
    owner: str | None
    created_at: str
    members: int
    online: int
    subscribed: bool
    last_seq: int
    unread: int
    mentions: NotRequired[int]  # section 8: unread messages that mention me (or @all)
    notify: NotRequired[str]  # section 8: "all" | "mentions" | "none"
    description: NotRequired[str]  # section 10 (``topic:update``)
    archived: NotRequired[bool]  # section 10: read-only for everyone
    role: NotRequired[str | None]  # section 3 (Parley): "admin" or "moderator" where I am one


class Member(TypedDict):
    username: str
    role: str
    online: bool


@dataclass(frozen=True)
class Session:
    """What the server says about us right after connecting."""

    username: str
    server_time: str


# A conversation as the protocol addresses it in `history`, `read` and
# `delivered`: ("topic", name) or ("with", username).
Conversation = tuple[str, str]


def conversation(name: str) -> Conversation:
    """``"general"`` -> ``("topic", "general")``; ``"@bob"`` -> ``("with", "bob")``."""
    if name.startswith("@"):
        return ("with", name[1:])
    return ("topic", name)


def address(name: str) -> dict[str, str]:
    """A conversation as a payload: ``{"topic": "general"}`` or ``{"with": "bob"}`` for ``@bob``."""
    kind, target = conversation(name)
    return {kind: target}


def _has(data: Any, fields: dict[str, type]) -> bool:
    """True if ``data`` is a dict whose ``fields`` have the given types."""
    if not isinstance(data, dict):
        return False
    for key, kind in fields.items():
        value = data.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return False
    return True


_MESSAGE_FIELDS: dict[str, type] = {
    "id": int,
    "topic": str,
    "seq": int,
    "sender": str,
}
_TOPIC_FIELDS: dict[str, type] = {"name": str}


def is_message(data: Any) -> bool:
    """True if ``data`` has the Message fields the client relies on."""
    return _has(data, _MESSAGE_FIELDS)


def as_message(data: Any) -> Message:
    """``data`` as a Message, or ``ClientError("bad_reply")``."""
    if not is_message(data):
        raise ClientError("bad_reply", f"expected a message, got {_short(data)}")
    return cast(Message, data)


def as_topic(data: Any) -> Topic:
    """``data`` as a Topic, or ``ClientError("bad_reply")``."""
    if not _has(data, _TOPIC_FIELDS):
        raise ClientError("bad_reply", f"expected a topic, got {_short(data)}")
    return cast(Topic, data)


def as_reactions(data: Any) -> list[Reaction]:
    """The well-formed entries of a ``reactions`` list (others are dropped)."""
    if not isinstance(data, list):
        return []
    fields: dict[str, type] = {"emoji": str, "count": int}
    return [cast(Reaction, r) for r in data if _has(r, fields)]


def int_field(data: Any, key: str) -> int | None:
    """``data[key]`` when it is an int (a message id in an event or a field); else None."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def name_field(data: Any, key: str) -> str | None:
    """``data[key]`` when it is a non-empty string (a topic name in an event); else None."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def field_list(data: Any, key: str) -> list[Any]:
    """``data[key]`` when it is a list (``{"topics": [...]}`` and the like)."""
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list):
        raise ClientError("bad_reply", f"expected a {key!r} list, got {_short(data)}")
    return value


def as_session(data: Any) -> Session:
    """The ``session`` event payload, or ``ClientError("bad_reply")``."""
    user = data.get("user") if isinstance(data, dict) else None
    username = user.get("username") if isinstance(user, dict) else None
    if not isinstance(username, str):
        raise ClientError("bad_reply", f"expected a session, got {_short(data)}")
    return Session(username=username, server_time=str(data.get("server_time", "")))


def _short(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 200 else text[:197] + "..."
