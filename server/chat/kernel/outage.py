"""The database's outages in the log: one line per failure class, one when it answers again.

While PostgreSQL restarts (or an operator ends our backends), every send, read and background round
fails the same way; a traceback for each would bury the log (one per send and one per cursor flush
every 50 ms). ``DATABASE.failed`` tells whether an exception is such an outage
(``db.errors.outage_of``: the server unreachable or the connection dropped) and logs its class the
first time only; ``DATABASE.recovered`` (called after any database work that succeeded) logs one
line with how long it lasted and forgets the classes, so the next outage is logged again. One per
process: the outage is the database's, whoever met it.

``Backoff`` is the delay of a background loop retrying through an outage: doubled per failed
round up to a ceiling low enough that the loop resumes within seconds of the database's return.
"""

from __future__ import annotations

import logging
import time

from db.errors import outage_of

log = logging.getLogger("parley.database")


class OutageLog:
    def __init__(self) -> None:
        self._classes: set[str] = set()
        self._since = 0.0

    @property
    def down(self) -> bool:
        return bool(self._classes)

    def failed(self, exc: BaseException, what: str) -> bool:
        """True when ``exc`` is an outage (logged once per class, at WARNING, without a
        traceback); False for anything else, which the caller reports as it would a bug."""
        failure = outage_of(exc)
        if failure is None:
            return False
        if failure not in self._classes:
            if not self._classes:
                self._since = time.monotonic()
            self._classes.add(failure)
            log.warning(
                "the database is unavailable (%s, first met %s); retrying until it answers",
                failure,
                what,
                extra={"error": failure},
            )
        return True

    def recovered(self) -> None:
        """Database work succeeded: if an outage was logged, log its end (once)."""
        if self._classes:
            classes, self._classes = sorted(self._classes), set()
            log.info(
                "the database answers again after %.1f s (%s)",
                time.monotonic() - self._since,
                ", ".join(classes),
            )


DATABASE = OutageLog()


class Backoff:
    """The wait before a background loop's next round: ``base`` while rounds succeed, doubled per
    failed round up to ``ceiling``."""

    def __init__(self, base: float, ceiling: float = 2.0) -> None:
        self.base = base
        self.ceiling = max(base, ceiling)
        self._failures = 0

    @property
    def failing(self) -> bool:
        """The last round failed."""
        return self._failures > 0

    @property
    def delay(self) -> float:
        if self._failures == 0:
            return self.base
        return min(self.ceiling, max(self.base, 0.1) * 2.0 ** (self._failures - 1))

    def failed(self) -> None:
        self._failures += 1

    def succeeded(self) -> None:
        self._failures = 0
