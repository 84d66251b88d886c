"""Typed settings, validated once (pydantic-settings, prefix ``PARLEY_``): ``Settings`` composes
the sections of ``server/settings/``, one per capability or serving concern, and keeps what spans
them (the resolved folders, the JWT secret's lifecycle).

The sections sit beside this module, not in the capabilities' packages under ``server/chat/``: the
domain never reads a setting (it is handed plain values, ``Limits`` among them, by
``server/chat_factory.py``), the environment is the composition's to read, and the host lists
need pydantic-settings' ``NoDecode``, which stays out of the domain. Each section is a plain
pydantic model; ``model_config`` (the prefix, ``.env``) is set here only, and pydantic-settings
reads the environment for every field, inherited ones included, so ``settings.<name>`` stays flat.
A new capability's knobs: a module in ``server/settings/`` and one base here.

The JWT secret is the one setting with a lifecycle: when it is not given, a strong one is generated
on first start and kept in the data directory (mode 0600), so the embedded default never ships a
constant secret. An explicitly given secret shorter than 32 bytes is refused at start-up.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from server.settings.accounts import MIN_SECRET_BYTES, AccountsSettings
from server.settings.admin_ui import AdminUiSettings
from server.settings.audit import AuditSettings
from server.settings.calls import CallsSettings
from server.settings.connections import ConnectionsSettings
from server.settings.conversations import ConversationsSettings
from server.settings.echo import EchoSettings
from server.settings.erasure import ErasureSettings
from server.settings.exports import ExportsSettings
from server.settings.files import FilesSettings
from server.settings.integrations import IntegrationsSettings
from server.settings.notifications import NotificationsSettings
from server.settings.presence import PresenceSettings
from server.settings.previews import PreviewsSettings
from server.settings.realtime import RealtimeSettings
from server.settings.retention import RetentionSettings
from server.settings.serving import ServingSettings
from server.settings.sso import SingleSignOnSettings
from server.settings.storage import StorageSettings
from server.settings.values import SettingsError
from server.settings.workspace import WorkspaceSettings

# The names the command line and the tests import from here.
__all__ = ["MIN_SECRET_BYTES", "SECRET_FILE", "VAPID_KEY_FILE", "Settings", "SettingsError"]

SECRET_FILE = "jwt_secret"
# The Web Push key a server generates into its data directory (server/adapters/webpush.py). Named
# here so that `parley backup` finds it without importing that module (cryptography, pyjwt).
VAPID_KEY_FILE = "vapid_private_key.pem"


# pydantic collects the fields of the last base first: the storage and serving ones lead.
class Settings(
    CallsSettings,
    WorkspaceSettings,
    RetentionSettings,
    ErasureSettings,
    AuditSettings,
    NotificationsSettings,
    PreviewsSettings,
    IntegrationsSettings,
    ExportsSettings,
    FilesSettings,
    EchoSettings,
    ConversationsSettings,
    PresenceSettings,
    ConnectionsSettings,
    SingleSignOnSettings,
    AccountsSettings,
    RealtimeSettings,
    AdminUiSettings,
    ServingSettings,
    StorageSettings,
    BaseSettings,
):
    """Every knob of the server. Each one is documented in the README table."""

    model_config = SettingsConfigDict(env_prefix="PARLEY_", env_file=".env", extra="ignore")

    @property
    def resolved_files_dir(self) -> Path:
        """Where files are kept: ``PARLEY_FILES_DIR``, or ``files`` in the data directory."""
        return self.files_dir if self.files_dir is not None else self.data_dir / "files"

    @property
    def resolved_exports_dir(self) -> Path:
        """Where users' exports are written: ``PARLEY_EXPORTS_DIR``, or ``exports`` in the files directory."""
        return self.exports_dir if self.exports_dir is not None else self.resolved_files_dir / "exports"

    def secret(self) -> str:
        """The JWT secret: the given one, or the one kept in the data directory."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / SECRET_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            temporary = self.data_dir / f".{SECRET_FILE}.{os.getpid()}"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(temporary, path)  # atomic; another process may have won the race
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
        value = path.read_text().strip()
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"the kept JWT secret {path} is shorter than {MIN_SECRET_BYTES} bytes; "
                "delete it to have a new one generated (this logs everyone out)"
            )
        return value
