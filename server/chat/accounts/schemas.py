"""DTOs of accounts: sign-up, login, a connection's token refresh, and a user's profile
(PROTOCOL.md sections 1, 6 and 10)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints, field_validator, model_validator

from server.chat.kernel.schemas import In, Out, Username, check_text

InviteCode = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(check_text)]


class SignUpIn(In):
    """A new account's name and password (the messenger dialect's ``POST /user`` takes just these)."""

    username: Username
    password: str

    @field_validator("password")
    @classmethod
    def _password_bytes(cls, value: str) -> str:
        size = len(check_text(value).encode())
        if not 8 <= size <= 72:
            raise ValueError("must be 8 to 72 bytes (UTF-8)")
        return value


class RegisterIn(SignUpIn):
    # PROTOCOL.md section 19: the invitation's code (``/#invite=<code>``), needed when the
    # workspace's registration is ``invite``
    invite: InviteCode | None = None


class LoginIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(check_text)]


class RefreshIn(In):
    """``auth:refresh``: the token a live connection takes in place of its own (any string: one
    that is not a valid token of the connection's user is ``unauthorized``)."""

    token: str


class UserOut(Out):
    """The ``user`` of a sign-up's answer and of ``session``: only the name (PROTOCOL.md sections
    1 and 6 fix these shapes; a profile and a Message carry ``bot``, a member does not: section 3
    fixes its shape too)."""

    username: str


class TokenOut(Out):
    token: str
    expires_at: str


class RefreshedOut(Out):
    """``auth:refresh``'s answer: when the connection's new token expires."""

    expires_at: str


class RegisteredOut(Out):
    user: UserOut
    token: str
    expires_at: str


def _password(value: str) -> str:
    size = len(check_text(value).encode())
    if not 8 <= size <= 72:
        raise ValueError("must be 8 to 72 bytes (UTF-8)")
    return value


NewPassword = Annotated[str, AfterValidator(_password)]


class SessionOut(Out):
    """One of the user's sessions (PROTOCOL.md section 19); ``current``: the caller's own."""

    id: str
    created_at: str
    last_used_at: str
    user_agent: str
    address: str
    current: bool


class PasswordChangeIn(In):
    """``POST /api/users/me/password``."""

    current: Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(check_text)]
    new: NewPassword


class PasswordResetIn(In):
    """``POST /api/auth/password-reset``: the account by its name or its (verified) email."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> PasswordResetIn:
        if (self.username is None) == (self.email is None):
            raise ValueError("give either username or email")
        return self


class PasswordResetConfirmIn(In):
    """``POST /api/auth/password-reset/confirm``."""

    code: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    password: NewPassword
