"""How the process serves HTTP: address, proxies, bodies, connections, logs and the web client."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from server.settings.values import CsvList, SettingsError


class ServingSettings(BaseModel):
    """The listening socket, who may call it and how much it takes, and the process's logs."""

    host: str = "127.0.0.1"
    port: int = 8000
    log_json: bool = False
    log_level: str = "INFO"
    gc_tuning: bool = Field(default=True, description="freeze start-up objects, collect less often")
    web_dir: Path = Path(__file__).resolve().parent.parent.parent / "web"
    cors_origins: CsvList = Field(default_factory=list)
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDRs; "*" = any).
    trusted_proxies: CsvList = Field(default_factory=list)
    # When set, GET /metrics needs ``Authorization: Bearer <it>``; unset, /metrics is open (README).
    metrics_token: str | None = None
    # Bodies and connections (PROTOCOL.md sections 2 and 5; README "Limits").
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="largest REST/gateway HTTP body")
    request_timeout: float = Field(default=20.0, gt=0, description="seconds to send a whole request")
    keep_alive_timeout: int = Field(default=5, gt=0, description="seconds an idle HTTP connection stays")
    max_connections_per_address: int = Field(default=256, gt=0, description="TCP connections per peer")
    # The listening socket's accept queue (listen(2)'s backlog; the kernel caps it at
    # net.core.somaxconn). uvicorn's 2048 overflows when a restarted node's clients all come back
    # at once: the kernel then drops their handshakes and each retries a second or more later.
    backlog: int = Field(default=16384, gt=0, description="connections the kernel queues for accept")

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

    def proxy_options(self) -> dict[str, Any]:
        """uvicorn's options for forwarded headers: believed only from ``trusted_proxies``.

        uvicorn believes them from 127.0.0.1 unless told otherwise, which would let any local
        client pick its own client address (and so its rate-limit key).
        """
        return {"proxy_headers": bool(self.trusted_proxies), "forwarded_allow_ips": self.trusted_proxies}
