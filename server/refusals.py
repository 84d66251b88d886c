"""Refusals made visible: each class counted, and logged once per client address and class a minute.

The server refuses clients in several places, each for a reason of its own: a connection past the
per-address bound (``PARLEY_MAX_CONNECTIONS_PER_ADDRESS``, refused before a byte is read), a socket
past the per-user bound, a body past its cap (413), an event or request past a rate limit
(``rate_limited``), a client that stopped reading (a slow consumer). Each was invisible: 774
connections refused by the address bound left no log line and no metric, and the load test that
hit them saw only "websocket error". Every refusal is counted here, by class
(``parley_refusals_total{reason}``), and the first one per address and class in a minute is
logged (WARNING, ``parley.refusals``); the rest of that minute's are only counted, so a flood of
refusals does not become a flood of log lines.

The addresses logged in the last minute are remembered in insertion order, the oldest forgotten
first: at most ``REMEMBERED`` of them, so a flood from many addresses holds bounded memory (past
it, an address forgotten early may be logged twice in its minute).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, Protocol

log = logging.getLogger("parley.refusals")

ADDRESS_BOUND: Final = "address_bound"
USER_BOUND: Final = "user_bound"
BODY_CAP: Final = "body_cap"
RATE_LIMIT: Final = "rate_limit"
SLOW_CONSUMER: Final = "slow_consumer"
REASONS = (ADDRESS_BOUND, USER_BOUND, BODY_CAP, RATE_LIMIT, SLOW_CONSUMER)
WHY = {
    ADDRESS_BOUND: "connection refused: the address holds PARLEY_MAX_CONNECTIONS_PER_ADDRESS connections",
    USER_BOUND: "socket refused: the user holds PARLEY_MAX_CONNECTIONS_PER_USER sockets",
    BODY_CAP: "request body over its cap refused (413)",
    RATE_LIMIT: "refused as rate_limited",
    SLOW_CONSUMER: "client cut as a slow consumer (its outgoing queue passed its bound)",
}
LOG_EVERY = 60.0  # seconds: one line per address and class in this window
REMEMBERED = 10_000  # (class, address) pairs remembered for the window, at most


class Counted(Protocol):
    def inc(self) -> None: ...


class Refusals:
    """Counts every refusal by class and logs the first per address and class per ``every`` seconds."""

    def __init__(
        self,
        counter_for: Callable[[str], Counted],
        every: float = LOG_EVERY,
        remembered: int = REMEMBERED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._counters = {reason: counter_for(reason) for reason in REASONS}  # each class shows, even at 0
        self._every = every
        self._remembered = remembered
        self._clock = clock
        self._logged: OrderedDict[tuple[str, str], float] = OrderedDict()  # oldest line first

    def __len__(self) -> int:
        """The (class, address) pairs remembered now (at most ``remembered``)."""
        return len(self._logged)

    def refused(self, reason: str, address: str | None) -> None:
        """Count one refusal of class ``reason`` of a client at ``address``; log it if it is the first
        of that address and class in the window. O(1) amortised: no scan, whatever the flood."""
        self._counters[reason].inc()
        now = self._clock()
        logged = self._logged
        while logged:  # forget the lines older than the window (the oldest come first)
            oldest, at = next(iter(logged.items()))
            if now - at < self._every:
                break
            del logged[oldest]
        key = (reason, address or "")
        if key in logged:
            return
        if len(logged) >= self._remembered:
            logged.popitem(last=False)
        logged[key] = now
        log.warning(WHY[reason], extra={"refusal": reason, "address": address or ""})
