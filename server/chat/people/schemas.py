"""People's shapes (PROTOCOL.md section 14): the Profile and what clients send to change theirs."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from server.chat.kernel.schemas import Emoji, In, Out, ProfileOut, check_body

MAX_STATUS_SECONDS = 366 * 86400  # a status may be set to clear itself within a year


def check_label(value: str) -> str:
    """A display name or title: empty, or what a body may be (visible, no bidi controls)."""
    return value if value == "" else check_body(value)


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(value: str) -> str:
    if value and value not in _zones():
        raise ValueError("must be an IANA time zone name such as Europe/Paris, or empty")
    return value


Label = Annotated[str, StringConstraints(max_length=64), AfterValidator(check_label)]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(check_timezone)]
AnyName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
FileId = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class UsersOut(Out):
    users: list[ProfileOut]


class ProfileUpdateIn(In):
    """``profile:update``: only the fields given change; ``avatar`` null removes it."""

    display_name: Label | None = None
    title: Label | None = None
    timezone: TimeZone | None = None
    avatar: FileId | None = None


class StatusSetIn(In):
    emoji: Emoji | None = None
    text: Annotated[str, StringConstraints(max_length=100), AfterValidator(check_label)]
    expires_in: Annotated[int, Field(ge=1, le=MAX_STATUS_SECONDS)] | None = None


class AvailabilitySetIn(In):
    availability: Literal["auto", "away", "dnd"]


class UsersSearchIn(In):
    q: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    limit: Annotated[int, Field(ge=1, le=50)] = 20


class UsersGetIn(In):
    usernames: Annotated[list[AnyName], Field(max_length=100)]  # unknown ones are left out
