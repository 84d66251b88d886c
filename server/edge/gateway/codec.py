"""What every dialect's frame codec shares (``server.edge.realtime.dispatch``).

The socket is the sender (authenticated when it opened), each of its frames is its user's
activity (``active``, PROTOCOL.md section 14), a refused frame leaves it open, and each answered
frame is counted as ``compat.<dialect>:<action>``. A dialect adds how it reads a frame
(``parse``), what it calls (``invoke``) and how it answers (``ok``, ``err``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable
from typing import Any

from server.chat.kernel.errors import ChatError
from server.edge.gateway.serve import Gateway
from server.edge.gateway.sockets import GatewaySocket
from server.edge.realtime.dispatch import Active, dispatch


class FrameCodec(ABC):
    too_many = "too many frames; slow down"
    name = "compat"  # the metrics' prefix: ``compat.topics``

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.active: Active | None = gateway.chat.people.active

    async def on_frame(self, socket: GatewaySocket, text: str | None) -> None:
        """Answer one client frame (its text; None for a binary frame)."""
        await dispatch(self, socket, text)

    def admit(self, socket: GatewaySocket) -> GatewaySocket:
        return socket

    @abstractmethod
    def parse(self, text: str | None) -> tuple[str | None, Any]: ...

    @abstractmethod
    def invoke(self, socket: GatewaySocket, action: str | None, payload: Any) -> Awaitable[Any]: ...

    def ok(self, socket: GatewaySocket, action: str | None, result: Any) -> None:  # noqa: B027
        """Nothing by default: the dialect answers only errors."""

    @abstractmethod
    def err(self, socket: GatewaySocket, action: str | None, error: ChatError) -> None: ...

    def label(self, action: str | None) -> str:
        return f"{self.name}:{action or 'unknown'}"

    def record(self, action: str | None, outcome: str, elapsed: float) -> None:
        self.gateway.record(self.label(action), outcome, elapsed)

    def limited(self, socket: GatewaySocket) -> None:
        self.gateway.limited(socket.ws)
