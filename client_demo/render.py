"""Wire objects as terminal lines. Pure functions: no I/O, no state.

Text from other users is made safe for a terminal: control characters
(escape sequences included) are shown as ``\\x1b``-style escapes, and a
multi-line body continues on indented lines.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from client_demo.errors import ClientError
from client_demo.models import Member, Message, Topic

INDENT = "    "


def safe(text: object) -> str:
    """``text`` with control characters escaped (newlines become indented lines)."""
    lines = str(text).split("\n")
    return f"\n{INDENT}".join("".join(_printable(ch) for ch in line) for line in lines)


def _printable(ch: str) -> str:
    if ch.isprintable() or ch == "\t":
        return ch
    return ch.encode("unicode_escape").decode("ascii")


def clock(iso: object) -> str:
    """An ISO 8601 time as local ``HH:MM``; ``--:--`` when it cannot be read."""
    if not isinstance(iso, str):
        return "--:--"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return "--:--"
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%H:%M")


def message_line(message: Message) -> str:
    """``12:04 [general #3] alice: hello  (id 12)``: the id is what ``/edit`` and ``/delete`` take."""
    body = message.get("body")
    text = safe(body) if body else "(deleted)"
    edited = " (edited)" if message.get("edited_at") else ""
    where = f"{clock(message.get('created_at'))} {_where(message)} {safe(message['sender'])}"
    return f"{where}: {text}{edited}{_id(message)}"


def edited_line(message: Message) -> str:
    """``12:05 [general #3] alice edited: hello again  (id 12)``."""
    body = safe(message.get("body") or "")
    where = f"{clock(message.get('edited_at'))} {_where(message)} {safe(message['sender'])}"
    return f"{where} edited: {body}{_id(message)}"


def sent_line(message: Message) -> str:
    """What ``send`` prints: ``sent id=12 seq=3 topic=general``."""
    return f"sent id={message['id']} seq={message['seq']} topic={safe(message['topic'])}"


def message_json(message: Message) -> str:
    """One Message as a single JSON line."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def topic_line(topic: Topic) -> str:
    """``general                  public, 3 members, 1 online, 0 unread, subscribed``."""
    return f"{safe(topic['name']):<24} {topic_summary(topic)}"


def topic_summary(topic: Topic) -> str:
    """``public, 3 members, 1 online, 0 unread, subscribed``."""
    parts = [
        safe(topic.get("kind", "?")),
        plural(_int(topic, "members"), "member"),
        f"{_int(topic, 'online')} online",
        f"{_int(topic, 'unread')} unread",
    ]
    if topic.get("subscribed"):
        parts.append("subscribed")
    return ", ".join(parts)


def member_line(member: Member) -> str:
    """``alice (owner, online)``."""
    state = "online" if member.get("online") else "offline"
    return f"{safe(member.get('username', '?'))} ({safe(member.get('role', 'member'))}, {state})"


def deleted_line(data: Any) -> str:
    """The ``message:deleted`` event."""
    return f"* message {_get(data, 'id')} in {_get(data, 'topic')} was deleted"


def typing_line(data: Any) -> str | None:
    """The ``typing`` event; None when someone stopped typing (not worth a line)."""
    if not isinstance(data, dict) or not data.get("typing"):
        return None
    return f"* {_get(data, 'username')} is typing in {_get(data, 'topic')}..."


def presence_line(data: Any) -> str:
    """The ``presence`` event."""
    if isinstance(data, dict) and data.get("online"):
        return f"* {_get(data, 'username')} is online"
    return f"* {_get(data, 'username')} is offline (last seen {clock(_raw(data, 'last_seen'))})"


def invited_line(data: Any) -> str:
    """The ``topic:invited`` event."""
    topic = _raw(data, "topic")
    name = _get(topic, "name")
    return f"* {_get(data, 'by')} added you to {name} ({_get(topic, 'kind')}): /join {name}"


def created_line(data: Any) -> str:
    """The ``topic:created`` event (a new public topic; to its creator, already joined)."""
    topic = _raw(data, "topic")
    name = _get(topic, "name")
    if isinstance(topic, dict) and topic.get("subscribed") is True:
        return f"* {_get(data, 'by')} created {name} ({_get(topic, 'kind')})"
    return f"* {_get(data, 'by')} created {name} ({_get(topic, 'kind')}): /join {name}"


def renamed_line(data: Any) -> str:
    """The ``topic:renamed`` event (an operator renamed a topic)."""
    return f"* topic {_get(data, 'topic')} was renamed to {_get(data, 'name')}"


def topic_deleted_line(data: Any) -> str:
    """The ``topic:deleted`` event (an operator deleted a topic and its messages)."""
    return f"* topic {_get(data, 'topic')} was deleted"


def read_line(data: Any) -> str:
    """The ``read`` event."""
    return f"* {_get(data, 'username')} read {_get(data, 'topic')} up to #{_get(data, 'seq')}"


def error_line(error: ClientError) -> str:
    """``error: forbidden: not a member of secret``."""
    return f"error: {safe(error)}"


def _id(message: Message) -> str:
    return f"  (id {message['id']})" if isinstance(message.get("id"), int) else ""


def _where(message: Message) -> str:
    return f"[{safe(message['topic'])} #{message['seq']}]"


def _raw(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def _get(data: Any, key: str) -> str:
    value = _raw(data, key)
    return "?" if value is None else safe(value)


def _int(data: Any, key: str) -> int:
    value = _raw(data, key)
    return value if isinstance(value, int) else 0


def plural(n: int, noun: str) -> str:
    """``1 member``, ``3 members``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
