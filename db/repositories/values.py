"""ORM rows to the frozen values the repositories hand out (``db/records.py``), and the flush that
turns a broken unique constraint into ``db.errors.Conflict``."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import conflict_of
from db.extras import EXTRAS_COLUMNS, extras_of
from db.models import Membership, Message, Topic, User
from db.records import MembershipRecord, MessageRecord, TopicRecord, UserRecord


async def flush(session: AsyncSession) -> None:
    """Send pending inserts now; ``Conflict`` if one breaks a unique (or primary) key."""
    try:
        await session.flush()
    except IntegrityError as exc:
        conflict = conflict_of(exc)
        if conflict is None:
            raise
        raise conflict from exc


def stored_id(value: int | None) -> int:
    """A primary key read back from the database, never None once a row is stored."""
    if value is None:
        raise ValueError("a stored row has an id")
    return value


def user_record(user: User) -> UserRecord:
    return UserRecord(
        id=stored_id(user.id),
        username=user.username,
        password_hash=user.password_hash,
        created_at=user.created_at,
        token_version=user.token_version,
        last_seen_at=user.last_seen_at,
        disabled_at=user.disabled_at,
        deleted_at=user.deleted_at,
        bot=user.bot,
        owner_id=user.owner_id,
        display_name=user.display_name,
        title=user.title,
        timezone=user.timezone,
        avatar_file_id=user.avatar_file_id,
        status_emoji=user.status_emoji,
        status_text=user.status_text,
        status_expires_at=user.status_expires_at,
        availability=user.availability,
        idle=user.idle,
    )


def topic_record(topic: Topic) -> TopicRecord:
    return TopicRecord(
        id=stored_id(topic.id),
        name=topic.name,
        kind=topic.kind,
        owner_id=topic.owner_id,
        created_at=topic.created_at,
        last_seq=topic.last_seq,
        description=topic.description,
        archived_at=topic.archived_at,
        retention_days=topic.retention_days,
    )


def membership_record(membership: Membership) -> MembershipRecord:
    return MembershipRecord(
        topic_id=membership.topic_id,
        user_id=membership.user_id,
        role=membership.role,
        joined_at=membership.joined_at,
        delivered_seq=membership.delivered_seq,
        read_seq=membership.read_seq,
        notify_level=membership.notify_level,
        muted_at=membership.muted_at,
        muted_until=membership.muted_until,
    )


def message_record(message: Message) -> MessageRecord:
    return MessageRecord(
        id=stored_id(message.id),
        topic_id=message.topic_id,
        seq=message.seq,
        sender_id=message.sender_id,
        body=message.body,
        client_id=message.client_id,
        created_at=message.created_at,
        edited_at=message.edited_at,
        deleted_at=message.deleted_at,
        extras=extras_of([getattr(message, name) for name in EXTRAS_COLUMNS]),
    )
