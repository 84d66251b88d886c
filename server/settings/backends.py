"""Backends (server/chat/backends/, PROTOCOL.md section 17): the server API's keys."""

from __future__ import annotations

from pydantic import BaseModel, Field


class BackendsSettings(BaseModel):
    """How fast one server key may call the server API (the cluster's count with Redis)."""

    server_key_rate: float = Field(
        default=200.0, gt=0, description="requests a second one server key may make"
    )
    server_key_burst: int = Field(default=1000, gt=0, description="requests one server key may make at once")
