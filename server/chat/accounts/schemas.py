"""DTOs of accounts: sign-up, login, a connection's token refresh, and a user's profile
(PROTOCOL.md sections 1, 6 and 10)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints, field_validator

from server.chat.kernel.schemas import In, Out, Username, check_text


class RegisterIn(In):
    username: Username
    password: str

    @field_validator("password")
    @classmethod
    def _password_bytes(cls, value: str) -> str:
        size = len(check_text(value).encode())
        if not 8 <= size <= 72:
            raise ValueError("must be 8 to 72 bytes (UTF-8)")
        return value


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
