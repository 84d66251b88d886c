"""The time exports go by: the wall clock, which a test may move forward (``advance``) to see the
hourly limit lift and the 7-day removal happen without waiting for either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self.shift = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def advance(self, by: timedelta) -> None:
        self.shift += by
