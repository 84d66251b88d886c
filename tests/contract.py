"""Shapes from the wire contract (docs/PROTOCOL.md): field sets and small assertion helpers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

# Section 3, "Objects returned".
TOPIC_FIELDS = {
    "name",
    "kind",
    "owner",
    "created_at",
    "members",
    "online",
    "subscribed",
    "last_seq",
    "unread",
    "read_seq",  # Parley's addition (section 3): the user's read mark
    # Section 8 (conversations) and section 10 (moderation).
    "mentions",
    "notify",
    "description",
    "archived",
    # Section 16 (retention).
    "retention_days",
    "role",  # Parley's addition (section 3): "admin" or "moderator" where the user is one there, else null
}
MESSAGE_FIELDS = {"id", "topic", "kind", "seq", "sender", "body", "created_at", "edited_at", "client_id"}
# Section 3, ``topic:members``, with the fields section 14 adds, and Parley's (section 10: a mute,
# the member's read mark for a viewer who is a member).
MEMBER_SHOWN = ("username", "role", "online", "display_name", "avatar", "availability")
MEMBER_FIELDS = {*MEMBER_SHOWN, "muted", "muted_until", "read_seq"}


def shown(member: dict[str, object]) -> dict[str, object]:
    """A member as sections 3 and 14 show it, without Parley's moderation and read-mark fields
    (tests/edge/sio/test_moderation.py holds those)."""
    assert set(member) == MEMBER_FIELDS, set(member) ^ MEMBER_FIELDS
    return {name: member[name] for name in MEMBER_SHOWN}


def is_utc_iso(value: str) -> bool:
    return datetime.fromisoformat(value).utcoffset() == timedelta(0)


def utc(text: str) -> datetime:
    """Parse an ISO 8601 UTC time as the server writes it (``...Z``)."""
    assert text.endswith("Z"), text
    moment = datetime.fromisoformat(text[:-1] + "+00:00")
    assert moment.utcoffset() == timedelta(0)
    return moment


def error_code(ack: dict[str, Any]) -> str:
    """The code of a failed Socket.IO ack (section 2), which must be a failure."""
    assert ack["ok"] is False, ack
    code: str = ack["error"]["code"]
    return code


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Section 6: the response is ``status`` with exactly ``{"error": {"code", "message"}}``, no traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip(), body
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body
