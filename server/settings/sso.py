"""Single sign-on (server/chat/accounts/, PROTOCOL.md section 14; README "Single sign-on")."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator, model_validator

from server.settings.values import CsvList, SettingsError


class SingleSignOnSettings(BaseModel):
    """An OpenID Connect provider found by its discovery document, and where browsers reach Parley.

    Set the issuer, the client id and the client secret together, or none of them. The issuer's
    own host is let through the address guard (the operator named it); ``oidc_allow_hosts`` lets
    through further non-public hosts the provider's documents name (its token endpoint, its key
    set). ``public_url`` is where browsers reach Parley, for the redirect URI registered with the
    provider (``<public_url>/api/auth/oidc/callback``); unset, it is taken from each request.
    """

    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_name: str | None = Field(default=None, description="the sign-in button's name (default: the host)")
    oidc_scopes: str = "openid profile email"
    oidc_allow_hosts: CsvList = Field(default_factory=list)
    # Each start writes a row before anyone signs in: a budget per client address, and a bound on
    # the rows under way (the oldest dropped past it).
    oidc_starts_per_hour: int = Field(default=300, gt=0, description="sign-ins started per address per hour")
    oidc_pending_flows: int = Field(default=10_000, gt=0, description="sign-ins under way at once")
    public_url: str | None = None

    @field_validator("oidc_issuer", "oidc_client_id", "oidc_name", "public_url")
    @classmethod
    def _unset_when_blank(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("oidc_issuer", "public_url")
    @classmethod
    def _web_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            name = f"PARLEY_{(info.field_name or '').upper()}"
            raise SettingsError(f"{name} must be an http:// or https:// URL, not {value!r}")
        return value.rstrip("/") if value is not None and info.field_name == "public_url" else value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Self:
        """The issuer, the client id and the secret come together; the scopes include ``openid``."""
        given = [self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret]
        if any(value is not None for value in given) and not all(value is not None for value in given):
            raise SettingsError(
                "single sign-on needs PARLEY_OIDC_ISSUER, PARLEY_OIDC_CLIENT_ID and "
                "PARLEY_OIDC_CLIENT_SECRET together (or none of them)"
            )
        if "openid" not in self.oidc_scopes.split():
            raise SettingsError(f"PARLEY_OIDC_SCOPES must include openid, not {self.oidc_scopes!r}")
        return self
