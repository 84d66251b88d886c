"""Socket.IO's wire shapes: the ack envelopes, the refusal of a CONNECT, and the server events.

- an ack is ``{"ok": true, "data": ...}`` or ``{"ok": false, "error": {"code", "message"}}``;
- a refused CONNECT carries the error code as its message and the error object as its data;
- each domain event is one event name and one payload object.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import orjson
import socketio

from server.chat.calls.schemas import call_json
from server.chat.kernel import events as ev
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.views import iso_required
from server.edge.errors import error_body
from server.edge.shapes import to_json


def ack_ok(data: Any) -> dict[str, Any]:
    return {"ok": True, "data": to_json(data)}


def ack_error(error: ChatError) -> dict[str, Any]:
    return {"ok": False, "error": error_body(error)}


def unknown_event(event: str) -> dict[str, Any]:
    """The ack of an event no handler takes."""
    return ack_error(ChatError(ErrorCode.INVALID, f"unknown event {event[:64]!r}"))


def refusal(error: ChatError) -> socketio.exceptions.ConnectionRefusedError:
    """What a namespace raises to refuse a CONNECT with ``error`` (the client's ``connect_error``)."""
    return socketio.exceptions.ConnectionRefusedError(error.code.value, error_body(error))


def now_iso() -> str:
    """The server time as ISO 8601 UTC with a ``Z``."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def expiring(expires_at: datetime) -> tuple[str, dict[str, Any]]:
    """``auth:expiring``: the socket's token expires at ``expires_at`` (PROTOCOL.md 10)."""
    return "auth:expiring", {"expires_at": iso_required(expires_at)}


def server_event(event: ev.Event) -> tuple[str, dict[str, Any]] | None:
    """The Socket.IO event name and payload for a domain event (None: not sent).

    The payload is one object, never a string, and keep it so: the stock JS client records the
    last argument of *any* event as its recovery offset when that argument is a string, so only
    ``sink.with_offset`` may end an event with one.
    """
    match event:
        case ev.MessageCreated(message=message):
            return "message", message.wire
        case ev.MessageEdited(message=message):
            return "message:edited", message.wire
        case ev.MessageDeleted(id=message_id, topic=topic):
            return "message:deleted", {"id": message_id, "topic": topic}
        case ev.ReactionsChanged(topic=topic, id=message_id, reactions=reactions):
            shown = [reaction.model_dump(mode="json") for reaction in reactions]
            return "reaction:updated", {"topic": topic, "id": message_id, "reactions": shown}
        case ev.ThreadChanged(topic=topic, root=root, summary=summary):
            summary_json = None if summary is None else summary.model_dump(mode="json")
            return "thread:updated", {"topic": topic, "root": root, "thread_summary": summary_json}
        case ev.PreviewsChanged(topic=topic, id=message_id, previews=previews):
            shown_previews = [preview.model_dump(mode="json") for preview in previews]
            return "message:previews", {"topic": topic, "id": message_id, "previews": shown_previews}
        case ev.PinsChanged(topic=topic, pins=pins):
            return "pins:updated", {"topic": topic, "pins": [pin.wire for pin in pins]}
        case ev.TopicInvited(topic=topic, by=by):
            return "topic:invited", {"topic": topic.model_dump(mode="json"), "by": by}
        case ev.TopicCreated(topic=topic, by=by):
            return "topic:created", {"topic": topic.model_dump(mode="json"), "by": by}
        case ev.Typing(topic=topic, username=username, typing=typing):
            return "typing", {"topic": topic, "username": username, "typing": typing}
        case ev.ReadMarked(topic=topic, username=username, seq=seq):
            return "read", {"topic": topic, "username": username, "seq": seq}
        case ev.PresenceChanged(username=username, online=online, last_seen=last_seen, availability=shown):
            return "presence", {
                "username": username,
                "online": online,
                "last_seen": last_seen,
                "availability": shown,
            }
        case ev.UserUpdated(profile=profile):
            return "user:updated", profile.wire
        case ev.TopicRenamed(old_name=old_name, name=name):
            return "topic:renamed", {"topic": old_name, "name": name}
        case ev.TopicDeleted(name=name):
            return "topic:deleted", {"topic": name}
        case ev.MemberListChanged(topic=topic, username=username, action=action, role=role):
            return "topic:member", {"topic": topic, "username": username, "action": action, "role": role}
        case ev.TopicRemoved(topic=topic, reason=reason, banned=banned, until=until):
            removed: dict[str, Any] = {"topic": topic, "reason": reason}
            if banned:  # Parley's addition: a ban says until when (null: until unbanned)
                removed |= {"banned": True, "until": until}
            return "topic:removed", removed
        case ev.EmojiChanged(emoji=emoji):
            return "emoji:updated", {"emoji": [dataclasses.asdict(entry) for entry in emoji]}
        case ev.CallStarted(call=call):
            return "call:started", call_json(call)
        case ev.CallJoined(call_id=call_id, username=username, peer=peer):
            return "call:joined", {"call": call_id, "username": username, "peer": peer}
        case ev.CallLeft(call_id=call_id, username=username, peer=peer):
            return "call:left", {"call": call_id, "username": username, "peer": peer}
        case ev.CallEnded(call_id=call_id, duration_s=duration_s):
            return "call:ended", {"call": call_id, "duration_s": duration_s}
        case ev.CallSignalled(call_id=call_id, sender=sender, data=data):
            return "call:signal", {"call": call_id, "from": sender, "data": orjson.loads(data)}
    return None
