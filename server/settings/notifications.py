"""Notifications (server/chat/notifications/; PROTOCOL.md section 15; docs/notifications.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator

from server.settings.values import CsvList, SettingsError


class NotificationsSettings(BaseModel):
    """Web Push and email digests.

    Web Push: the VAPID key pair is generated into the data directory at first start unless
    ``vapid_private_key`` (a PEM or the base64url raw key) is set, which several nodes must share;
    push endpoints go through an address guard of their own. Email: off unless ``smtp_url`` and
    ``smtp_from`` are both set.
    """

    push_delay: float = Field(default=10.0, ge=0, description="seconds a message waits unread before a push")
    push_content: bool = Field(default=True, description="PARLEY_PUSH_CONTENT=off: pushes carry no text")
    push_allow_hosts: CsvList = Field(default_factory=list)
    vapid_private_key: SecretStr | None = None
    vapid_subject: str = Field(default="mailto:admin@localhost", description="the VAPID ``sub`` claim")
    email_delay: float = Field(default=900.0, ge=0, description="seconds without a socket before a digest")
    smtp_url: SecretStr | None = None
    smtp_from: str | None = None
    smtp_timeout: float = Field(default=30.0, gt=0, le=300, description="seconds one SMTP exchange may take")
    # Certificates to check the SMTP server's against instead of the system's (a private CA).
    smtp_ca_file: Path | None = None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("smtp://", "smtps://")):
            raise SettingsError("PARLEY_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://...")
        return value
