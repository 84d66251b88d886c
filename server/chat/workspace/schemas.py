"""DTOs of joining the workspace (PROTOCOL.md section 19): the settings, invites, admins' accounts."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from server.chat.kernel.schemas import In, Out, Username, check_text
from server.chat.notifications.schemas import check_address

Registration = Literal["open", "invite", "closed"]
MAX_DOMAINS = 50
MAX_TOPICS = 20
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 90 * 24 * 3600
DEFAULT_EXPIRES_IN = 7 * 24 * 3600
MAX_USES = 1000
TopicName = Annotated[str, StringConstraints(min_length=1, max_length=80), AfterValidator(check_text)]
Address = Annotated[str, AfterValidator(check_address)]


def check_domain(value: str) -> str:
    """A domain as email addresses carry it: lower-cased, in its ASCII (IDNA) form, two labels or
    more of letters, digits and hyphens, not all digits at the end."""
    text = check_text(value).strip().rstrip(".").lower()
    try:
        ascii_form = text.encode("idna").decode("ascii") if text else ""
    except UnicodeError:
        raise ValueError(f"{value!r} is not a valid domain name") from None
    labels = ascii_form.split(".")
    if (
        len(ascii_form) > 253
        or len(labels) < 2
        or not all(_label(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(f"{value!r} is not a valid domain name (such as example.com)")
    return ascii_form


def _label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
    )


Domain = Annotated[str, StringConstraints(min_length=1, max_length=253), AfterValidator(check_domain)]


class WorkspaceSettingsOut(Out):
    """``GET``/``PATCH /api/admin/settings``."""

    registration: Registration
    allowed_domains: list[str]
    members_invite: bool


class WorkspaceSettingsIn(In):
    """``PATCH /api/admin/settings``: only the fields given change."""

    registration: Registration | None = None
    allowed_domains: Annotated[list[Domain], Field(max_length=MAX_DOMAINS)] | None = None
    members_invite: bool | None = None

    @field_validator("allowed_domains")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))


class InvitationIn(In):
    """``POST /api/invites``."""

    max_uses: Annotated[int, Field(ge=1, le=MAX_USES)] = 1
    expires_in: Annotated[int, Field(ge=MIN_EXPIRES_IN, le=MAX_EXPIRES_IN)] = DEFAULT_EXPIRES_IN
    email: Address | None = None
    topics: Annotated[list[TopicName], Field(max_length=MAX_TOPICS)] = Field(default_factory=list)


class InvitationOut(Out):
    """An invite as listed (never its code)."""

    id: int
    expires_at: str
    uses_left: int
    max_uses: int
    email: str | None
    topics: list[str]
    created_by: str | None
    created_at: str
    revoked: bool
    usable: bool


class CreatedInvitationOut(Out):
    """``POST /api/invites``' answer: the code, shown once."""

    id: int
    code: str
    url: str
    expires_at: str
    uses_left: int


class InvitationsOut(Out):
    invites: list[InvitationOut]


class NewUserIn(In):
    """``POST /api/admin/users``: without a password, an invite is mailed to ``email``."""

    username: Username
    email: Address | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None

    @field_validator("password")
    @classmethod
    def _password_bytes(cls, value: str | None) -> str | None:
        if value is not None and not 8 <= len(check_text(value).encode()) <= 72:
            raise ValueError("must be 8 to 72 bytes (UTF-8)")
        return value


class NewUserOut(Out):
    username: str
    role: str
    invite: CreatedInvitationOut | None = None  # when no password was given: the invite mailed
