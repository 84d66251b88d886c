"""What the operators' repositories hand out: a running server's heartbeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A running server's last heartbeat (``server.chat.operators.nodes``)."""

    name: str
    started_at: datetime
    beat_at: datetime
    sockets: int
    users: int
