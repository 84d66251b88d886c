"""Bots' API tokens (PROTOCOL.md section 12): their shape, their hash, and the cache of those seen.

A token is ``pb_`` and 43 URL-safe characters (``secrets.token_urlsafe(32)``): shown once, stored
as its SHA-256 only. A JWT never starts with ``pb_`` (it starts with ``eyJ``), so one look at the
prefix tells which check a token needs. Unlike a JWT, a token does not expire: it works until
revoked, and revoking it (``TokenRevoked``, from any node through the hub) closes the sockets
that use it.

``KnownTokens`` remembers the tokens checked lately (by hash), so a reconnecting bot costs no
query; a revocation here or on another node forgets the token at once, and an entry is looked up
again after ``max_age`` seconds in any case. As ``KnownUsers`` does, forgetting also voids the
lookups under way, so a read that began before a revocation cannot put the token back.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from server.chat.kernel.events import Event, NewsMissed, TokenRevoked

PREFIX = "pb_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def is_api_token(token: str) -> bool:
    return token.startswith(PREFIX)


def digest(secret: str) -> str:
    """What is stored of a token or a hook's secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class KnownToken:
    id: str
    user_id: int
    read_at: float


class KnownTokens:
    """API tokens checked lately, by hash (a hub sink too)."""

    def __init__(self, max_age: float, max_size: int = 100_000) -> None:
        self.max_age = max_age
        self.max_size = max_size
        self._by_hash: dict[str, KnownToken] = {}
        self._hash_of: dict[str, str] = {}  # token id -> hash
        self._forgotten = 0

    def get(self, token_hash: str) -> KnownToken | None:
        known = self._by_hash.get(token_hash)
        if known is None or time.monotonic() - known.read_at > self.max_age:
            return None
        return known

    def generation(self) -> int:
        return self._forgotten

    def remember(self, token_hash: str, token_id: str, user_id: int, since: int) -> KnownToken:
        """Keep the token unless one was forgotten since generation ``since``."""
        known = KnownToken(token_id, user_id, time.monotonic())
        if since == self._forgotten:
            if len(self._by_hash) >= self.max_size:
                self._by_hash.clear()
                self._hash_of.clear()
            self._by_hash[token_hash] = known
            self._hash_of[token_id] = token_hash
        return known

    def forget(self, token_id: str) -> None:
        self._forgotten += 1
        token_hash = self._hash_of.pop(token_id, None)
        if token_hash is not None:
            self._by_hash.pop(token_hash, None)

    async def deliver(self, event: Event) -> None:
        if isinstance(event, TokenRevoked):
            self.forget(event.token_id)
        elif isinstance(event, NewsMissed):  # a revocation may have been missed: read each again
            self._forgotten += 1
            self._by_hash.clear()
            self._hash_of.clear()
