"""Wire shapes (PROTOCOL.md section 3) and the checks that admit them.

Payloads from the server are JSON; these TypedDicts give them names, and the
``as_*`` functions check the fields the client relies on before it trusts a
payload (a malformed one becomes ``ClientError("bad_reply", ...)`` or is
dropped, never a ``KeyError`` deep inside the REPL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict, cast

from client_demo.errors import ClientError


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
