"""When an outbox row that failed is tried again: one backoff for every durable outbox (webhooks,
PROTOCOL.md section 12; pushes and mails, section 15), so they behave alike and are tested once."""

from __future__ import annotations

import random
from collections.abc import Callable

MAX_DELAY = 600.0  # retries are at most ten minutes apart


def retry_delay(attempts: int, base: float, rng: Callable[[], float] = random.random) -> float:
    """Seconds before the next try after ``attempts`` tries: the first retry between ``base``
    and 2.5 x ``base`` (2-5 s with the default 2), then ``base`` x 2^attempts with +-20 % jitter,
    at most ``MAX_DELAY``."""
    if attempts <= 1:
        return base * (1.0 + 1.5 * rng())
    return float(min(MAX_DELAY, base * 2**attempts * (0.8 + 0.4 * rng())))
