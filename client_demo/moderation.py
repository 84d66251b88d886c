"""The requests of PROTOCOL.md section 10 and the lines that confirm them. Pure: no I/O.

The REPL (``moderation_repl``) and the one-shot subcommands (``moderation_oneshot``)
build the same ``Request`` for an action and print the same confirmation, so
``/kick bob spam`` and ``kick den bob spam`` say the same ``kicked bob from den (spam)``.
Acks (SPEC-21): ``{}`` for role, kick, ban, unban, mute, unmute, block, unblock and
report; the Topic for update, archive and unarchive (``topic_done`` words those);
``{"users"}`` for ``user:blocks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from client_demo import render
from client_demo.models import Topic

ROLES = ("admin", "moderator", "member")
ROLE_NAMES = {"admin": "an admin", "moderator": "a moderator", "member": "a member"}


@dataclass(frozen=True)
class Request:
    """One event to emit and the line to print once the server accepted it."""

    event: str
    payload: dict[str, Any]
    done: str = ""


def kick(topic: str, user: str, reason: str | None) -> Request:
    payload = _member(topic, user, reason=reason)
    return Request("topic:kick", payload, f"kicked {_names(user, 'from', topic)}{_because(reason)}")


def ban(topic: str, user: str, minutes: int | None, reason: str | None) -> Request:
    payload = _member(topic, user, reason=reason, minutes=minutes)
    done = f"banned {_names(user, 'from', topic)}{_for(minutes)}{_because(reason)}"
    return Request("topic:ban", payload, done)


def unban(topic: str, user: str) -> Request:
    return Request("topic:unban", _member(topic, user), f"unbanned {_names(user, 'in', topic)}")


def mute(topic: str, user: str, minutes: int | None) -> Request:
    payload = _member(topic, user, minutes=minutes)
    return Request("topic:mute", payload, f"muted {_names(user, 'in', topic)}{_for(minutes)}")


def unmute(topic: str, user: str) -> Request:
    return Request("topic:unmute", _member(topic, user), f"unmuted {_names(user, 'in', topic)}")


def role(topic: str, user: str, new_role: str) -> Request:
    payload = {"topic": topic, "username": user, "role": new_role}
    done = f"{render.safe(user)} is now {ROLE_NAMES.get(new_role, new_role)} of {render.safe(topic)}"
    return Request("topic:role", payload, done)


def archive(topic: str, *, archived: bool = True) -> Request:
    return Request("topic:archive" if archived else "topic:unarchive", {"topic": topic})


def rename(topic: str, name: str) -> Request:
    return Request("topic:update", {"topic": topic, "name": name})


def describe(topic: str, text: str) -> Request:
    return Request("topic:update", {"topic": topic, "description": text})


def topic_done(request: Request, topic: Topic) -> str:
    """What an update, archive or unarchive says, from the Topic the server answered."""
    name = render.safe(topic["name"])
    if request.event != "topic:update":
        return f"{request.event.removeprefix('topic:')}d {name}"  # archived / unarchived
    if "name" in request.payload:
        return f"renamed {render.safe(request.payload['topic'])} to {name}"
    text = topic.get("description", request.payload.get("description", ""))
    return f"description of {name}: {render.safe(text)}" if text else f"description of {name} cleared"


def block(user: str, *, blocked: bool = True) -> Request:
    verb = "block" if blocked else "unblock"
    return Request(f"user:{verb}", {"username": user}, f"{verb}ed {render.safe(user)}")


def report(message_id: int, reason: str) -> Request:
    payload = {"id": message_id, "reason": reason}
    return Request("message:report", payload, f"reported message {message_id}")


def blocked_users(data: Any) -> list[str]:
    """The names of a ``user:blocks`` answer (anything else in the list is dropped)."""
    users = data.get("users") if isinstance(data, dict) else None
    return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []


def _member(topic: str, user: str, **optional: Any) -> dict[str, Any]:
    payload = {"topic": topic, "username": user}
    return payload | {k: v for k, v in optional.items() if v is not None}


def _names(user: str, word: str, topic: str) -> str:
    return f"{render.safe(user)} {word} {render.safe(topic)}"


def _because(reason: str | None) -> str:
    return f" ({render.safe(reason)})" if reason else ""


def _for(minutes: int | None) -> str:
    return f" for {render.plural(minutes, 'minute')}" if minutes else ""
