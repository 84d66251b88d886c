"""Quiet hours and do-not-disturb (PROTOCOL.md section 15): read in the user's time zone, across
midnight, the start inside and the end outside."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db.notifications.repository import PrefsRecord
from server.chat.notifications.rules import held_back, in_quiet_hours

NIGHT = PrefsRecord(1, quiet_from="22:00", quiet_to="07:00")
LUNCH = PrefsRecord(1, quiet_from="12:00", quiet_to="13:30")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 25, hour, minute, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("prefs", "when", "quiet"),
    [
        (NIGHT, at(21, 59), False),
        (NIGHT, at(22, 0), True),
        (NIGHT, at(3), True),
        (NIGHT, at(6, 59), True),
        (NIGHT, at(7, 0), False),
        (LUNCH, at(11, 59), False),
        (LUNCH, at(12, 0), True),
        (LUNCH, at(13, 29), True),
        (LUNCH, at(13, 30), False),
        (PrefsRecord(1), at(3), False),
        (PrefsRecord(1, quiet_from="09:00", quiet_to="09:00"), at(9), False),
    ],
)
def test_quiet_hours_in_utc_when_the_user_has_no_time_zone(prefs, when, quiet):
    assert in_quiet_hours(prefs, "", when) is quiet


def test_quiet_hours_are_read_in_the_users_time_zone():
    # 13:00 UTC is 22:00 in Tokyo (UTC+9, no summer time) and 14:00 in Paris in November.
    assert in_quiet_hours(NIGHT, "Asia/Tokyo", at(13)) is True
    assert in_quiet_hours(NIGHT, "Europe/Paris", at(13)) is False
    assert in_quiet_hours(NIGHT, "No/Such_Zone", at(23)) is True  # unknown: UTC


def test_do_not_disturb_holds_back_whatever_the_hour():
    assert held_back("dnd", PrefsRecord(1), "", at(12)) is True
    assert held_back("auto", PrefsRecord(1), "", at(12)) is False
    assert held_back("away", NIGHT, "", at(23)) is True
