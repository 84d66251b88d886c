"""Rows to DTOs: one place that renders times, names and direct conversations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, cast

from db.records import BacklogEntry, MessageRecord
from server.chat.schemas import MessageOut

Kind = Literal["public", "private", "direct"]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a ``Z``; SQLite hands back naive datetimes that are UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_required(moment: datetime) -> str:
    return cast(str, iso(moment))


def direct_name(user_a: int, user_b: int) -> str:
    """Stored name of a direct conversation; ':' can never appear in a topic name."""
    low, high = sorted((user_a, user_b))
    return f"dm:{low}:{high}"


def direct_ids(name: str) -> tuple[int, int]:
    """The two members' ids, read from a direct conversation's stored name (``direct_name``)."""
    low, high = (int(part) for part in name.split(":")[1:3])
    return low, high


def direct_peer(name: str, user_id: int) -> int:
    """The other member's id, read from a direct conversation's stored name (``direct_name``)."""
    low, high = direct_ids(name)
    return high if low == user_id else low


def message_view(message: MessageRecord, sender: str, kind: str, shown_as: str) -> MessageOut:
    """A stored message as a client sees it in a topic of ``kind`` named ``shown_as`` (``@other``
    for a direct conversation)."""
    deleted = message.deleted_at is not None
    return MessageOut(
        id=message.id,
        topic=shown_as,
        kind=cast(Kind, kind),
        seq=message.seq,
        sender=sender,
        body="" if deleted else message.body,
        created_at=iso_required(message.created_at),
        edited_at=iso(message.edited_at),
        client_id=message.client_id,
        deleted=deleted,
    )


def backlog_view(entry: BacklogEntry) -> MessageOut:
    """A backlog message as its recipient sees it (``@other`` for a direct one; never deleted)."""
    return MessageOut(
        id=entry.id,
        topic=f"@{entry.peer}" if entry.peer is not None else entry.topic_name,
        kind=cast(Kind, entry.topic_kind),
        seq=entry.seq,
        sender=entry.sender,
        body=entry.body,
        created_at=iso_required(entry.created_at),
        edited_at=iso(entry.edited_at),
        client_id=entry.client_id,
        deleted=False,
    )
