"""The echo channel's part of the composition: an echo socket is one of its user's sockets."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.echo.service import Counter, EchoService, Upstream
from server.chat.kernel.wiring import Wiring


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The echo channel's transcript size."""

    echo_transcript_bytes: int


def build(
    w: Wiring, limits: Limits, upstream: Upstream | None, take_socket: Counter, release_socket: Counter
) -> EchoService:
    """``take_socket``/``release_socket``: the one count of a user's sockets (connections' sessions;
    PROTOCOL.md section 2: ``/echo`` included)."""
    echo = EchoService(w.db, upstream, limits.echo_transcript_bytes, take_socket, release_socket)
    w.part("echo", stop=echo.stop)
    return echo
