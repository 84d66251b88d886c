"""The Socket.IO Admin UI (README "Admin UI"): its switch, its account and what makes a password weak."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator

from server.settings.values import SettingsError

MIN_ADMIN_PASSWORD = 12
DEFAULT_WORDS = (
    "admin",
    "password",
    "passwd",
    "changeme",
    "secret",
    "parley",
    "socketio",
    "letmein",
    "qwerty",
)


class AdminUiSettings(BaseModel):
    """The Admin UI at /admin/ and the /admin namespace; off by default, and on only with a strong
    password."""

    admin_ui: bool = False
    admin_username: str = Field(default="admin", min_length=1)
    admin_password: SecretStr | None = Field(default=None, validate_default=True)
    admin_read_only: bool = True
    admin_stats_interval: float = Field(default=2.0, gt=0, description="seconds between Admin UI updates")

    @field_validator("admin_password")
    @classmethod
    def _strong_admin_password(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if not info.data.get("admin_ui"):
            return value
        problem = weak_password(
            info.data.get("admin_username", ""), value.get_secret_value() if value else ""
        )
        if problem:
            raise SettingsError(f"PARLEY_ADMIN_UI=1 needs a strong PARLEY_ADMIN_PASSWORD: it {problem}")
        return value


def weak_password(username: str, password: str) -> str | None:
    """Why ``password`` is too weak for the admin account, or None.

    Weak: unset, under 12 characters, a handful of distinct characters, the user
    name inside it, or a default word padded with a few digits or symbols
    ("Admin123456!", "password1234").
    """
    if not password:
        return "is not set"
    if len(password) < MIN_ADMIN_PASSWORD:
        return f"has fewer than {MIN_ADMIN_PASSWORD} characters"
    folded = password.casefold()
    if len(set(folded)) < 6:
        return "repeats too few distinct characters"
    if username and username.casefold() in folded:
        return "contains the admin user name"
    letters = "".join(char for char in folded if char.isalpha())
    if any(word in letters and len(letters) <= len(word) + 3 for word in DEFAULT_WORDS):
        return "is a default password"
    return None
