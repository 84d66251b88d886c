"""The realtime transports: Engine.IO's pings and transports, a socket's buffers and rates."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from server.settings.values import CsvList, SettingsError

TRANSPORTS = ("polling", "websocket")


class RealtimeSettings(BaseModel):
    """Engine.IO's handshake values and what one socket may send, queue and hold."""

    # Limits (PROTOCOL.md section 2).
    max_http_buffer_size: int = 64 * 1024
    socket_burst: int = 200
    socket_rate: float = 20.0
    outgoing_queue_bytes: int = 1024 * 1024
    max_held_events: int = Field(default=10_000, gt=0, description="live events held per catching-up socket")
    # Engine.IO (PROTOCOL.md 5a), advertised in the handshake as given, in milliseconds: fractions
    # of a second too (server.edge.engine.eio_socket corrects python-engineio's whole-second rounding).
    ping_interval: float = Field(default=25.0, gt=0, description="seconds between server pings")
    ping_timeout: float = Field(default=20.0, gt=0, description="seconds to wait for a pong")
    connect_timeout: float = Field(default=10.0, gt=0, description="seconds to send a Socket.IO CONNECT")
    transports: CsvList = Field(default_factory=lambda: ["polling", "websocket"])

    @field_validator("transports")
    @classmethod
    def _known_transports(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in TRANSPORTS]
        if unknown or not value:
            raise SettingsError(
                f"PARLEY_TRANSPORTS must name one or both of {', '.join(TRANSPORTS)}, not {value!r}"
            )
        return value
