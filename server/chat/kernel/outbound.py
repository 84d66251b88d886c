"""What every outbox that talks to the outside world shares (the outgoing webhooks of PROTOCOL.md
section 12, the Web Push of section 15): the guard's refusal, an answer, a failure to get one,
and when to try again.

The I/O itself lives in ``server.adapters`` (``webhook_http``: the address guard and the poster
that connects to the checked address; ``webpush``: encryption and VAPID over that poster); the
workers in the capabilities decide from these values alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

MAX_DELAY = 600.0  # retries are at most ten minutes apart


class AddressRefused(Exception):
    """The guard refused a URL: its host resolves to an address we may not reach."""


class UrlGuard(Protocol):
    async def check(self, url: str) -> None:
        """Raise ``AddressRefused`` unless every address the URL's host resolves to is allowed."""


@dataclass(frozen=True)
class Response:
    code: int
    body: bytes  # at most the cap the poster reads (64 KiB)
    content_type: str = ""


class DeliveryFailed(Exception):
    """No answer: a timeout or a connection error (retried)."""


class Poster(Protocol):
    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Response:
        """POST ``body``; raise ``AddressRefused`` (the guard) or ``DeliveryFailed``."""

    async def close(self) -> None: ...


def retry_delay(attempts: int, base: float, rng: Callable[[], float] = random.random) -> float:
    """Seconds before the next try after ``attempts`` tries: the first retry between ``base``
    and 2.5 x ``base`` (2-5 s with the default 2), then ``base`` x 2^attempts with +-20 % jitter,
    at most ``MAX_DELAY``."""
    if attempts <= 1:
        return base * (1.0 + 1.5 * rng())
    return float(min(MAX_DELAY, base * 2**attempts * (0.8 + 0.4 * rng())))


def retryable(code: int) -> bool:
    """An answer worth trying again: a server error, a timeout the receiver reported, too many requests."""
    return code >= 500 or code in (408, 429)
