"""When nothing notifies a user (PROTOCOL.md section 15), whatever the message: do-not-disturb and
quiet hours. Pure: the notifier and the digest ask it with the user's stored values and the time."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time
from functools import cache

from db.notifications.repository import PrefsRecord


@cache
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None  # a zone the system no longer knows: UTC, as with none


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(prefs: PrefsRecord, timezone: str, now: datetime) -> bool:
    """Whether ``now`` falls in the user's quiet hours, read in their time zone (UTC when none).
    ``from`` after ``to`` spans midnight (22:00-07:00); ``from`` equal to ``to`` is no quiet hours;
    the start is inside, the end outside."""
    if prefs.quiet_from is None or prefs.quiet_to is None:
        return False
    start, end = _clock(prefs.quiet_from), _clock(prefs.quiet_to)
    if start == end:
        return False
    local = now.astimezone(_zone(timezone) or UTC).time().replace(second=0, microsecond=0, tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def held_back(availability: str, prefs: PrefsRecord, timezone: str, now: datetime) -> bool:
    """Nothing notifies a user who chose do-not-disturb or is in their quiet hours."""
    return availability == "dnd" or in_quiet_hours(prefs, timezone, now)
