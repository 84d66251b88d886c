"""Notifications' shapes (PROTOCOL.md section 15): the preferences, in and out, and the Web Push
subscriptions (a browser's ``PushSubscription``, checked: its keys must be usable)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints

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


# Web Push subscriptions (PROTOCOL.md section 15) ----------------------------------------------

MAX_ENDPOINT = 2048  # characters of a push endpoint URL


def unb64url(text: str) -> bytes:
    """base64url with or without padding; raises ``ValueError``."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be base64url") from exc


def check_endpoint(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the endpoint must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the endpoint may not carry a user name or password")
    return value


def check_p256dh(value: str) -> str:
    raw = unb64url(value)
    if len(raw) != 65 or raw[0] != 4:
        raise ValueError("must be an uncompressed P-256 point (65 bytes) in base64url")
    # Imported here: cryptography costs every `parley` command's start, which checks no subscription.
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError as exc:
        raise ValueError("is not a point of the P-256 curve") from exc
    return value


def check_auth(value: str) -> str:
    if len(unb64url(value)) != 16:
        raise ValueError("must be 16 bytes in base64url")
    return value


Endpoint = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_ENDPOINT), AfterValidator(check_endpoint)
]
P256dh = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(check_p256dh)]
AuthSecret = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(check_auth)]


class PushKeys(In):
    p256dh: P256dh
    auth: AuthSecret


class PushSubscriptionIn(In):
    """A browser's ``PushSubscription`` as JSON (``expirationTime`` and the like are ignored)."""

    endpoint: Endpoint
    keys: PushKeys


class PushSubscriptionOut(Out):
    id: str
    endpoint_host: str
    created_at: str


class PushSubscriptionsOut(Out):
    subscriptions: list[PushSubscriptionOut]


class PushKeyOut(Out):
    public_key: str  # the VAPID application server key, base64url
