"""What Web Push needs of the outside world (PROTOCOL.md section 15), implemented in
``server.adapters.webpush``: the VAPID key, the endpoint check and the encrypted, signed POST."""

from __future__ import annotations

from typing import Protocol

from server.chat.kernel.outbound import Response


class PushSender(Protocol):
    @property
    def public_key(self) -> str:
        """The VAPID application server key (base64url, the uncompressed P-256 point)."""
        ...

    async def check(self, endpoint: str) -> None:
        """Raise ``AddressRefused`` unless pushes may go to ``endpoint`` (https, or http for an
        allowed host; every address it resolves to allowed)."""

    async def send(self, endpoint: str, p256dh: str, auth: str, payload: bytes) -> Response:
        """Encrypt ``payload`` for the subscription's keys and POST it, signed; raise
        ``AddressRefused`` (the guard) or ``DeliveryFailed`` (no answer)."""
        ...

    async def close(self) -> None: ...
