"""Tokens the application signs (server/chat/accounts/app_tokens.py, PROTOCOL.md section 17)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator, model_validator

from server.settings.accounts import MIN_SECRET_BYTES
from server.settings.values import SettingsError


class AppTokensSettings(BaseModel):
    """The application that signs its users' tokens: its key set or its shared secret, its issuer.

    One of ``app_jwks_url`` (RS256/ES256 keys it serves; that URL's host is let through the address
    guard, the operator named it) or ``app_jwt_secret`` (HS256, at least 32 bytes, as Parley's own
    secret), never both; either needs ``app_issuer``, the ``iss`` its tokens carry. Without any of
    them, only Parley's own tokens are accepted. ``app_token_max_ttl`` bounds a token's life
    (``exp - iat``, or ``exp`` from now without ``iat``): a longer one is refused, not shortened.
    """

    app_jwks_url: str | None = None
    app_jwt_secret: SecretStr | None = None
    app_issuer: str | None = None
    app_audience: str | None = None
    app_token_max_ttl: int = Field(
        default=86_400, gt=0, le=366 * 86_400, description="the longest life of an application's token, s"
    )

    @field_validator("app_jwks_url", "app_issuer", "app_audience")
    @classmethod
    def _app_unset_when_blank(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("app_jwks_url")
    @classmethod
    def _app_web_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise SettingsError(
                f"PARLEY_{(info.field_name or '').upper()} must be an http(s):// URL, not {value!r}"
            )
        return value

    @field_validator("app_jwt_secret")
    @classmethod
    def _strong_app_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise SettingsError(f"PARLEY_APP_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _one_way_with_an_issuer(self) -> Self:
        """One way of signing, and the issuer with it (an audience alone is no configuration)."""
        if self.app_jwks_url is not None and self.app_jwt_secret is not None:
            raise SettingsError("set PARLEY_APP_JWKS_URL or PARLEY_APP_JWT_SECRET, not both")
        signed = self.app_jwks_url is not None or self.app_jwt_secret is not None
        if signed and self.app_issuer is None:
            raise SettingsError(
                "tokens signed by the application need PARLEY_APP_ISSUER (the iss its tokens carry) "
                "with PARLEY_APP_JWKS_URL or PARLEY_APP_JWT_SECRET"
            )
        if not signed and (self.app_issuer is not None or self.app_audience is not None):
            raise SettingsError(
                "PARLEY_APP_ISSUER and PARLEY_APP_AUDIENCE need PARLEY_APP_JWKS_URL or PARLEY_APP_JWT_SECRET"
            )
        return self
