"""Profiles as a viewer sees them (PROTOCOL.md section 14): one rendering for many users at once.

Presence stays private (section 4): ``availability``, ``last_seen`` and ``online`` are shown to the
user and to those who share a private topic or a direct conversation with them (their partners),
never across a block; to anyone else they are null. The viewer's partners and who of the users is
online are read once per rendering, not once per user.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from db.records import UserRecord
from server.chat.kernel.schemas import Availability, AvatarOut, ProfileOut, StatusOut
from server.chat.kernel.views import iso, iso_required


def avatar_of(file_id: str | None) -> AvatarOut | None:
    if file_id is None:
        return None
    url = f"/api/files/{file_id}"
    return AvatarOut(url=url, thumbnail_url=f"{url}/thumbnail")


def status_of(user: UserRecord, now: datetime) -> StatusOut | None:
    """The user's status; one past its expiry is none already (the sweep clears it later)."""
    if user.status_text is None:
        return None
    expires = user.status_expires_at
    if expires is not None and expires.tzinfo is None:  # SQLite hands UTC back without its zone
        expires = expires.replace(tzinfo=UTC)
    if expires is not None and expires <= now:
        return None
    return StatusOut(emoji=user.status_emoji, text=user.status_text, expires_at=iso(expires))


def availability_of(user: UserRecord, online: bool) -> Availability:
    if not online:
        return "offline"
    if user.availability in ("away", "dnd"):
        return "away" if user.availability == "away" else "dnd"
    return "away" if user.idle else "online"


def profile_view(user: UserRecord, shown: bool, online: bool, now: datetime) -> ProfileOut:
    """``shown``: whether the viewer may see this user's presence."""
    return ProfileOut(
        username=user.username,
        display_name=user.display_name,
        avatar=avatar_of(user.avatar_file_id),
        title=user.title,
        timezone=user.timezone,
        status=status_of(user, now),
        availability=availability_of(user, online) if shown else None,
        last_seen=iso(user.last_seen_at) if shown else None,
        bot=user.bot,
        created_at=iso_required(user.created_at),
        online=online if shown else None,
        role="owner" if user.role == "owner" else "admin" if user.role == "admin" else "member",
    )


def profiles_view(
    users: Sequence[UserRecord],
    viewer_id: int,
    seen_by: Collection[int],
    online: Collection[int],
    now: datetime,
) -> list[ProfileOut]:
    """``seen_by``: the users whose presence the viewer may see (partners, not blocked)."""
    return [
        profile_view(user, user.id == viewer_id or user.id in seen_by, user.id in online, now)
        for user in users
    ]
