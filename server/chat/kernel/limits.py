"""The services' limits and timers, one value each (the kernel: every capability's build reads them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The services' limits and timers. Each is a setting of the same name (``server.config``),
    where its default, bounds and meaning are; the composition root copies them
    (``server.chat_factory.limits_from``)."""

    register_per_hour: int
    login_per_hour: int  # failed logins per address
    login_failures_per_account: int
    login_failure_window: float
    topics_per_hour: int  # topics one user creates
    invites_per_hour: int  # invites one user sends
    backlog_per_topic: int
    presence_grace: float
    typing_ttl: float
    cursor_flush_interval: float
    bcrypt_rounds: int
    echo_transcript_bytes: int
    max_connections_per_user: int
    connect_concurrency: int  # connection set-ups (and backlog reads) run at once
    recovery_window: float
    recovery_margin: float
    presence_ttl: float  # a server's heartbeat row (nodes.py) is live this long
    all_mention_limit: int  # members up to which anyone may say ``@all``
    hook_posts_per_minute: int  # posts to one incoming webhook (PROTOCOL.md section 12)
    max_file_bytes: int  # PROTOCOL.md section 11
    file_uploads_per_minute: int
    file_quota_bytes: int
    file_unattached_ttl_seconds: float
    webhook_retry_base: float  # PROTOCOL.md section 12: the delivery worker's backoff
    webhook_give_up: float
    webhook_lease: float
    webhook_outbox_retention: float  # housekeeping: finished deliveries kept this long
    webhook_log_retention: float
    preview_ttl: float  # PROTOCOL.md section 13: seconds a URL's preview is kept
    away_after: float  # PROTOCOL.md section 14: seconds without an event before a user is away
    push_delay: float  # PROTOCOL.md section 15: seconds a notifying message waits unread before a push
    push_content: bool  # PROTOCOL.md section 15: off, pushes carry no text
    public_url: str | None  # where browsers reach Parley: a push's link to its message
    email_delay: float  # PROTOCOL.md section 15: seconds without a socket before a digest
    password_login: bool  # PROTOCOL.md section 14: off, password sign-up and login are refused
    oidc_starts_per_hour: int  # single sign-ons started per address
    oidc_pending_flows: int  # single sign-ons under way at once (the oldest dropped past it)
    audit_retention_days: int  # PROTOCOL.md section 16: days an audit row is kept
    erasure_batch: int  # PROTOCOL.md section 16: rows an erasure changes per transaction
    erasure_pause: float  # seconds between an erasure's batches
    retention_days: int | None  # PROTOCOL.md section 16: days a message is kept (None: for ever)
    retention_interval: float  # seconds between two retention sweeps of one node
