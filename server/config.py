"""Typed settings, validated once (pydantic-settings, prefix ``PARLEY_``).

The JWT secret is the one setting with a lifecycle: when it is not given, a
strong one is generated on first start and kept in the data directory (mode
0600), so the embedded default never ships a constant secret. An explicitly
given secret shorter than 32 bytes is refused at start-up.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, StringConstraints, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_BYTES = 32
SECRET_FILE = "jwt_secret"
# The Web Push key a server generates into its data directory (server/adapters/webpush.py). Named
# here so that `parley backup` finds it without importing that module (cryptography, pyjwt).
VAPID_KEY_FILE = "vapid_private_key.pem"
TRANSPORTS = ("polling", "websocket")


class SettingsError(ValueError):
    """A setting is present but unusable; the message says how to fix it."""


class Settings(BaseSettings):
    """Every knob of the server. Each one is documented in the README table."""

    model_config = SettingsConfigDict(env_prefix="PARLEY_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    jwt_secret: str | None = None
    token_ttl: int = Field(default=24 * 3600, gt=0, description="token lifetime, seconds")
    expiry_notice: float = Field(default=60.0, gt=0, description="seconds before expiry a socket is told")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDRs; "*" = any).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # When set, GET /metrics needs ``Authorization: Bearer <it>``; unset, /metrics is open (README).
    metrics_token: str | None = None
    # The Socket.IO Admin UI at /admin/ and the /admin namespace (README "Admin UI"); off by default.
    admin_ui: bool = False
    admin_username: str = Field(default="admin", min_length=1)
    admin_password: SecretStr | None = Field(default=None, validate_default=True)
    admin_read_only: bool = True
    admin_stats_interval: float = Field(default=2.0, gt=0, description="seconds between Admin UI updates")
    host: str = "127.0.0.1"
    port: int = 8000
    log_json: bool = False
    log_level: str = "INFO"
    redis_url: str | None = None
    redis_channel: str = "parley"
    echo_upstream: str | None = None
    echo_timeout: float = Field(default=5.0, gt=0)
    default_topics: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["lobby"])
    # The echo-chat dialect's public channel (PROTOCOL.md 7.3): a public topic, created at start-up.
    public_topic: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")] = "lobby"
    web_dir: Path = Path(__file__).resolve().parent.parent / "web"
    # Limits (PROTOCOL.md section 2).
    max_http_buffer_size: int = 64 * 1024
    socket_burst: int = 200
    socket_rate: float = 20.0
    register_per_hour: int = Field(default=300, gt=0, description="sign-ups per client address per hour")
    login_per_hour: int = Field(default=300, gt=0, description="failed logins per client address per hour")
    login_failures_per_account: int = Field(default=10, gt=0, description="failed logins per account name")
    login_failure_window: float = Field(default=900.0, gt=0, description="seconds the account budget spans")
    max_connections_per_user: int = Field(default=50, gt=0, description="sockets per user (all nodes')")
    # Connection set-ups (token check, reads, presence; then the backlog read) run at once, the rest
    # queued first come, first served (server/chat/kernel/gate.py): a reconnect storm waits in a
    # queue instead of piling every set-up into the database pool. Twice SQLAlchemy's default pool
    # (5): every pooled connection busy, a short queue at the pool, no more memory than that.
    connect_concurrency: int = Field(default=10, gt=0, description="connection set-ups run at once")
    # Abuse limits per user (PROTOCOL.md section 2): a burst of this many, then this many per hour,
    # counted in each process and, with Redis, for the cluster (server/chat/kernel/budgets.py), then
    # ``rate_limited``.
    topics_per_hour: int = Field(default=20, gt=0, description="topics one user may create per hour")
    invites_per_hour: int = Field(default=30, gt=0, description="invites one user may send per hour")
    # Conversations (PROTOCOL.md section 8): ``@all`` in a topic of more members than this is for
    # owners, admins and moderators only.
    all_mention_limit: int = Field(default=50, ge=0, description="members up to which anyone may say @all")
    # Incoming webhooks (PROTOCOL.md section 12): posts per minute to one hook (a burst of as many).
    hook_posts_per_minute: int = Field(default=60, gt=0, description="posts a minute to one hook")
    outgoing_queue_bytes: int = 1024 * 1024
    max_held_events: int = Field(default=10_000, gt=0, description="live events held per catching-up socket")
    backlog_per_topic: int = 1000
    # Socket.IO connection-state recovery (PROTOCOL.md in docs/): how long a pid stays recoverable
    # (0 turns recovery off), and how far before the client's offset a replay reaches back.
    recovery_window: float = Field(default=120.0, ge=0, description="seconds; 0 disables recovery")
    recovery_margin: float = Field(default=5.0, ge=0, description="seconds replayed before the offset")
    echo_transcript_bytes: int = Field(
        default=256 * 1024, ge=1024, description="memory a transcript holds: JSON bytes plus 64 a line"
    )
    presence_grace: float = Field(default=2.0, ge=0, le=3)
    # PROTOCOL.md section 14: seconds without an event from any socket before a user is away.
    away_after: float = Field(default=600.0, gt=0, description="seconds of no activity before away")
    presence_ttl: float = Field(default=15.0, ge=1, description="seconds a dead node's users stay online")
    gc_tuning: bool = Field(default=True, description="freeze start-up objects, collect less often")
    typing_ttl: float = Field(default=5.0, gt=0)
    cursor_flush_interval: float = Field(default=0.2, gt=0)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    # Engine.IO (PROTOCOL.md 5a), advertised in the handshake as given, in milliseconds: fractions
    # of a second too (server.edge.engine.eio_socket corrects python-engineio's whole-second rounding).
    ping_interval: float = Field(default=25.0, gt=0, description="seconds between server pings")
    ping_timeout: float = Field(default=20.0, gt=0, description="seconds to wait for a pong")
    connect_timeout: float = Field(default=10.0, gt=0, description="seconds to send a Socket.IO CONNECT")
    transports: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["polling", "websocket"])
    # Bodies, connections and the echo upstream (PROTOCOL.md sections 2 and 5; README "Limits").
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="largest REST/gateway HTTP body")
    request_timeout: float = Field(default=20.0, gt=0, description="seconds to send a whole request")
    keep_alive_timeout: int = Field(default=5, gt=0, description="seconds an idle HTTP connection stays")
    max_connections_per_address: int = Field(default=256, gt=0, description="TCP connections per peer")
    echo_upstream_connections: int = Field(default=16, gt=0, description="pooled upstream connections")
    # Files (PROTOCOL.md section 11; README "Files"): kept under ``files_dir`` (default
    # <data_dir>/files), which several nodes must share.
    files_dir: Path | None = None
    max_file_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="largest upload, bytes")
    file_uploads_per_minute: int = Field(default=30, gt=0, description="uploads per user and minute")
    file_quota_bytes: int = Field(default=1024**3, gt=0, description="bytes of files one user may keep")
    # Exports (PROTOCOL.md section 16): users' ZIPs, under ``exports_dir`` (default <files_dir>/exports,
    # shared by the nodes like the files: the node that builds one need not be the one that serves it).
    exports_dir: Path | None = None
    file_unattached_ttl_seconds: float = Field(
        default=86400.0, gt=0, description="seconds an upload may wait to be attached"
    )
    # Outgoing webhooks (PROTOCOL.md section 12): hosts the SSRF guard lets through (names or IPs),
    # the timeout of one delivery, the first retry's base delay and how long a delivery is retried.
    webhook_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_timeout: float = Field(default=10.0, gt=0, le=60, description="seconds a delivery may take")
    webhook_retry_base: float = Field(
        default=2.0, gt=0, le=4, description="seconds; the first retry comes 1-2.5 times this later"
    )
    webhook_give_up: float = Field(default=3600.0, ge=0, description="seconds a delivery is retried")
    # PostgreSQL: how long a node holds a delivery it took. A row taken by a node that died is
    # taken again only when this ends, so it must outlast a delivery (the timeout; checked below).
    webhook_lease: float = Field(default=60.0, gt=0, description="seconds a taken delivery is a node's")
    # Housekeeping (server/chat/operators/housekeeping.py): how long a finished delivery (ok or failed; a
    # pending one is never pruned) and an attempt of the delivery log are kept.
    webhook_outbox_retention: float = Field(
        default=7 * 86400.0, gt=0, description="seconds a finished delivery's outbox row is kept"
    )
    webhook_log_retention: float = Field(
        default=7 * 86400.0, gt=0, description="seconds an attempt stays in the delivery log"
    )
    # The audit log (PROTOCOL.md section 16): housekeeping deletes rows older than this many days
    # (its own retention: PARLEY_RETENTION_DAYS, the messages', never applies to it).
    audit_retention_days: int = Field(default=365, ge=1, le=36500, description="days an audit row is kept")

    # Link previews (PROTOCOL.md section 13; docs/previews.md): the server fetches the pages its
    # messages link to (``previews`` off: nothing is fetched), through the webhooks' address guard
    # with its own allow list, and keeps each URL's preview ``preview_ttl`` seconds.
    previews: bool = Field(default=True, description="fetch link previews (PARLEY_PREVIEWS=off: never)")
    preview_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    preview_ttl: float = Field(default=86400.0, gt=0, description="seconds a URL's preview is kept")

    # Single sign-on (PROTOCOL.md section 14; README "Single sign-on"): an OpenID Connect provider
    # found by its discovery document. Set the issuer, the client id and the client secret together,
    # or none of them. The issuer's own host is let through the address guard (the operator named
    # it); ``oidc_allow_hosts`` lets through further non-public hosts the provider's documents name
    # (its token endpoint, its key set). ``public_url`` is where browsers reach Parley, for the
    # redirect URI registered with the provider (``<public_url>/api/auth/oidc/callback``); unset,
    # it is taken from each request.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_name: str | None = Field(default=None, description="the sign-in button's name (default: the host)")
    oidc_scopes: str = "openid profile email"
    oidc_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Each start writes a row before anyone signs in: a budget per client address, and a bound on
    # the rows under way (the oldest dropped past it).
    oidc_starts_per_hour: int = Field(default=300, gt=0, description="sign-ins started per address per hour")
    oidc_pending_flows: int = Field(default=10_000, gt=0, description="sign-ins under way at once")
    public_url: str | None = None
    # Off: password registration and login are refused (``forbidden``) for everyone; bots' API tokens
    # and ``parley token`` keep working.
    password_login: bool = Field(default=True, description="PARLEY_PASSWORD_LOGIN=off: single sign-on only")

    # Notifications (PROTOCOL.md section 15; docs/notifications.md). Web Push: the VAPID key pair is
    # generated into the data directory at first start unless ``vapid_private_key`` (a PEM or the
    # base64url raw key) is set, which several nodes must share; push endpoints go through an
    # address guard of their own. Email: off unless ``smtp_url`` and ``smtp_from`` are both set.
    push_delay: float = Field(default=10.0, ge=0, description="seconds a message waits unread before a push")
    push_content: bool = Field(default=True, description="PARLEY_PUSH_CONTENT=off: pushes carry no text")
    push_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    vapid_private_key: SecretStr | None = None
    vapid_subject: str = Field(default="mailto:admin@localhost", description="the VAPID ``sub`` claim")
    email_delay: float = Field(default=900.0, ge=0, description="seconds without a socket before a digest")
    smtp_url: SecretStr | None = None
    smtp_from: str | None = None
    smtp_timeout: float = Field(default=30.0, gt=0, le=300, description="seconds one SMTP exchange may take")
    # Certificates to check the SMTP server's against instead of the system's (a private CA).
    smtp_ca_file: Path | None = None

    # Erasure (PROTOCOL.md section 16): an erased account's rows go this many per transaction, with
    # this pause between transactions (sends are never held up for long).
    erasure_batch: int = Field(default=20, ge=1, le=10_000, description="rows per erasure transaction")
    erasure_pause: float = Field(default=0.05, ge=0, le=60, description="seconds between erasure batches")
    # Retention (PROTOCOL.md section 16; docs/deploy.md "Retention"): messages older than this many
    # days are deleted for good by a sweep on every node (one at a time on PostgreSQL); unset keeps
    # everything. A topic's ``retention_days`` may only be shorter. ``retention_interval``: seconds
    # between two sweeps of one node.
    retention_days: int | None = Field(default=None, ge=1, description="days a message is kept (unset: ever)")
    retention_interval: float = Field(default=300.0, gt=0, description="seconds between two retention sweeps")

    @field_validator(
        "cors_origins",
        "default_topics",
        "transports",
        "trusted_proxies",
        "webhook_allow_hosts",
        "preview_allow_hosts",
        "oidc_allow_hosts",
        "push_allow_hosts",
        mode="before",
    )
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("transports")
    @classmethod
    def _known_transports(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in TRANSPORTS]
        if unknown or not value:
            raise SettingsError(
                f"PARLEY_TRANSPORTS must name one or both of {', '.join(TRANSPORTS)}, not {value!r}"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise SettingsError(
                    f"PARLEY_TRUSTED_PROXIES takes IP addresses, CIDRs or *, not {entry!r}"
                ) from None
        return value

    @field_validator("metrics_token")
    @classmethod
    def _unset_when_empty(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"PARLEY_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes; "
                "unset it to have one generated and kept in the data directory"
            )
        return value

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

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("smtp://", "smtps://")):
            raise SettingsError("PARLEY_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://...")
        return value

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
    def _oidc_complete(self) -> Settings:
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

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> Settings:
        """A lease that ended while its node still waited for the receiver would let another node
        post the same delivery again: the lease must exceed the delivery timeout."""
        if self.webhook_lease <= self.webhook_timeout:
            raise SettingsError(
                f"PARLEY_WEBHOOK_LEASE ({self.webhook_lease:g} s) must be longer than "
                f"PARLEY_WEBHOOK_TIMEOUT ({self.webhook_timeout:g} s)"
            )
        return self

    def proxy_options(self) -> dict[str, Any]:
        """uvicorn's options for forwarded headers: believed only from ``trusted_proxies``.

        uvicorn believes them from 127.0.0.1 unless told otherwise, which would let any local
        client pick its own client address (and so its rate-limit key).
        """
        return {"proxy_headers": bool(self.trusted_proxies), "forwarded_allow_ips": self.trusted_proxies}

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or an SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'parley.db').resolve()}"

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
