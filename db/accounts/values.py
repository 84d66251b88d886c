"""A user's ORM row to the frozen value the repositories hand out (``db/accounts/records.py``)."""

from __future__ import annotations

from db.accounts.records import UserRecord
from db.accounts.tables import User
from db.values import stored_id


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
        role=user.role,
    )
