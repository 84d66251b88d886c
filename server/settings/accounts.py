"""Accounts (server/chat/accounts/): tokens, password hashing, sign-up and login budgets."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from server.settings.values import SettingsError

MIN_SECRET_BYTES = 32


class AccountsSettings(BaseModel):
    """The JWT secret and lifetime, bcrypt's cost, and how often an address may sign up or fail."""

    jwt_secret: str | None = None
    # Short: a page keeps its session with the refresh cookie (PROTOCOL.md section 19), which gets a
    # new access token before this one expires.
    token_ttl: int = Field(default=15 * 60, gt=0, description="access token lifetime, seconds")
    session_days: int = Field(
        default=30, ge=1, le=3650, description="days a session lasts since its last use"
    )
    refresh_grace: float = Field(
        default=10.0, ge=0, le=300, description="seconds a refresh cookie just replaced still gets a token"
    )
    password_resets_per_hour: int = Field(
        default=20, gt=0, description="password reset requests per client address per hour"
    )
    password_resets_per_account: int = Field(
        default=5, gt=0, description="password reset mails per account per hour"
    )
    expiry_notice: float = Field(default=60.0, gt=0, description="seconds before expiry a socket is told")
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    register_per_hour: int = Field(default=300, gt=0, description="sign-ups per client address per hour")
    login_per_hour: int = Field(default=300, gt=0, description="failed logins per client address per hour")
    login_failures_per_account: int = Field(default=10, gt=0, description="failed logins per account name")
    login_failure_window: float = Field(default=900.0, gt=0, description="seconds the account budget spans")
    # Off: password registration and login are refused (``forbidden``) for everyone; bots' API tokens
    # and ``parley token`` keep working.
    password_login: bool = Field(default=True, description="PARLEY_PASSWORD_LOGIN=off: single sign-on only")

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"PARLEY_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes; "
                "unset it to have one generated and kept in the data directory"
            )
        return value
