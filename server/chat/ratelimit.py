"""Token buckets: per socket (events) and per client address (sign-ups, logins).

A bucket holds ``burst`` tokens and refills at ``rate`` per second. Keyed
buckets forget keys that have been full for a while, so memory stays bounded
by the number of active clients.
"""

from __future__ import annotations

import time


class TokenBucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, burst: float, rate: float) -> None:
        self.burst = burst
        self.rate = rate
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class KeyedLimiter:
    """One bucket per key (e.g. per client address)."""

    def __init__(self, burst: float, rate: float, max_keys: int = 100_000) -> None:
        self.burst = burst
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full()
            bucket = self._buckets[key] = TokenBucket(self.burst, self.rate)
        return bucket.take()

    def _forget_full(self) -> None:
        now = time.monotonic()
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.stamp) * bucket.rate >= bucket.burst:
                del self._buckets[key]


def per_hour(count: int) -> KeyedLimiter:
    """A limiter allowing a burst of ``count`` and ``count`` per hour after that."""
    return KeyedLimiter(burst=count, rate=count / 3600)
