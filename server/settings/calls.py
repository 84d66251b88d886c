"""Calls (server/chat/calls/, PROTOCOL.md section 18): their size, and the ICE servers a join hands out."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from server.settings.values import CsvList


class CallsSettings(BaseModel):
    """How many take part in a call, and the STUN/TURN servers with their TURN credentials."""

    call_max_peers: int = Field(default=6, ge=2, le=32, description="participants of one call (a full mesh)")
    ice_servers: CsvList = Field(
        default_factory=list, description="STUN/TURN URLs handed to every join (none: host candidates only)"
    )
    turn_secret: SecretStr | None = Field(
        default=None, description="coturn's static-auth-secret: joins get TURN REST API credentials"
    )
    turn_ttl: int = Field(default=86400, ge=60, description="seconds a TURN credential is valid")

    @field_validator("ice_servers")
    @classmethod
    def _ice_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise ValueError(f"an ICE server is a stun:, stuns:, turn: or turns: URL, not {url!r}")
        return value
