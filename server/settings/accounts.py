"""Accounts (server/chat/accounts/): tokens, password hashing, sign-up and login budgets."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from server.settings.values import SettingsError

MIN_SECRET_BYTES = 32


class AccountsSettings(BaseModel):
    """The JWT secret and lifetime, bcrypt's cost, and how often an address may sign up or fail."""

    jwt_secret: str | None = None
    token_ttl: int = Field(default=24 * 3600, gt=0, description="token lifetime, seconds")
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
