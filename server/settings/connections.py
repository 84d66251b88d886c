"""Connections (server/chat/connections/): sockets per user, set-ups at once, backlog, recovery, signals."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ConnectionsSettings(BaseModel):
    """What a connection costs and what it is given back: backlog, recovery, typing and cursors."""

    max_connections_per_user: int = Field(default=50, gt=0, description="sockets per user (all nodes')")
    # Connection set-ups (token check, reads, presence; then the backlog read) run at once, the rest
    # queued first come, first served (server/chat/kernel/gate.py): a reconnect storm waits in a
    # queue instead of piling every set-up into the database pool. Twice SQLAlchemy's default pool
    # (5): every pooled connection busy, a short queue at the pool, no more memory than that.
    connect_concurrency: int = Field(default=10, gt=0, description="connection set-ups run at once")
    backlog_per_topic: int = 1000
    # Socket.IO connection-state recovery (PROTOCOL.md in docs/): how long a pid stays recoverable
    # (0 turns recovery off), and how far before the client's offset a replay reaches back.
    recovery_window: float = Field(default=120.0, ge=0, description="seconds; 0 disables recovery")
    recovery_margin: float = Field(default=5.0, ge=0, description="seconds replayed before the offset")
    typing_ttl: float = Field(default=5.0, gt=0)
    cursor_flush_interval: float = Field(default=0.2, gt=0)
