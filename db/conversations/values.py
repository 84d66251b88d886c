"""Topics', memberships' and messages' ORM rows to the frozen values the repositories hand out
(``db/conversations/records.py``)."""

from __future__ import annotations

from db.conversations.extras import EXTRAS_COLUMNS, extras_of
from db.conversations.records import MembershipRecord, MessageRecord, TopicRecord
from db.conversations.tables import Membership, Message, Topic
from db.values import stored_id


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
