"""Token buckets: per socket (events), per client address (sign-ups, failed logins), per account.

A bucket holds ``burst`` tokens and refills at ``rate`` per second. Keyed
buckets forget keys that have been full for a while, so memory stays bounded
by the number of active clients. A refused caller is told how long to wait
(``retry_after``); a token taken for an attempt that turned out harmless can be
given back (a successful login costs nothing).

These count in this process; ``budgets.SharedLimit`` adds the cluster's count to the keyed ones
(sign-ups, logins, topics, invites, uploads, hook posts) when several nodes share Redis.
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

    def _refill(self, now: float | None) -> None:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, now: float | None = None) -> bool:
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def give_back(self) -> None:
        self.tokens = min(self.burst, self.tokens + 1)

    def wait(self, now: float | None = None) -> float:
        """Seconds until a token is there (0 when one is)."""
        self._refill(now)
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else float("inf")


class KeyedLimiter:
    """One bucket per key (e.g. per client address, per account)."""

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

    def give_back(self, key: str) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.give_back()

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may take a token again (0 when it may now)."""
        bucket = self._buckets.get(key)
        return 0.0 if bucket is None else bucket.wait()

    def _forget_full(self) -> None:
        now = time.monotonic()
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.stamp) * bucket.rate >= bucket.burst:
                del self._buckets[key]


def per_window(count: int, seconds: float) -> KeyedLimiter:
    """A limiter allowing a burst of ``count`` and ``count`` per ``seconds`` after that."""
    return KeyedLimiter(burst=count, rate=count / seconds)
