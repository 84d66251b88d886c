"""Notifications' shapes (PROTOCOL.md section 15): the preferences, in and out."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from server.chat.kernel.schemas import In, Out

CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def check_clock(value: str) -> str:
    if not CLOCK.fullmatch(value):
        raise ValueError("must be a time of day as HH:MM, from 00:00 to 23:59")
    return value


Clock = Annotated[str, AfterValidator(check_clock)]
DigestMinutes = Annotated[int, Field(ge=15, le=1440)]


class QuietHours(In):
    """From ``from`` to ``to`` in the user's time zone (UTC when none); ``from`` after ``to``
    spans midnight; equal times are no quiet hours at all."""

    from_: Clock = Field(alias="from")
    to: Clock


class NotificationPrefsIn(In):
    """``PUT /api/users/me/notifications`` and ``notifications:set``: only the fields given change."""

    push: bool | None = None
    email: bool | None = None
    email_digest_minutes: DigestMinutes | None = None
    quiet_hours: QuietHours | None = None  # given as null: none any more (absent: unchanged)


class NotificationPrefsOut(Out):
    push: bool
    email: bool
    email_digest_minutes: int
    quiet_hours: dict[str, str] | None  # {"from": "HH:MM", "to": "HH:MM"}
    # Parley's additions, for the user's own settings page (never shown to anyone else):
    email_address: str | None  # the address last given
    email_verified: bool  # only a verified address gets mail
    email_available: bool  # the server can send mail (PARLEY_SMTP_URL and PARLEY_SMTP_FROM)


# An address as RFC 5321 lets it be sent to, narrowed to what people type: a dot-atom local part
# (at most 64 characters) and a domain of letters, digits and hyphens with at least one dot (an
# internationalised domain in its ASCII form); at most 254 characters in all.
LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def check_address(value: str) -> str:
    local, at, domain = value.strip().rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or len(value.strip()) > 254
        or len(local) > 64
        or not LOCAL.fullmatch(local)
        or len(labels) < 2
        or not all(LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError("must be an email address such as name@example.com")
    return f"{local}@{domain.lower()}"


class EmailIn(In):
    """``PUT /api/users/me/email``: the address to verify, then to send notifications to."""

    email: Annotated[str, AfterValidator(check_address)]
