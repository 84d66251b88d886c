"""Capture what the server logs, to check what is (and is not) written."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

# "parley" does not propagate (server/logs.py); the libraries log under the root.
WATCHED = ("parley", "")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[str]:
        """Every record that carries a traceback, formatted."""
        return [self.format(r) for r in self.records if r.exc_info or "Traceback" in r.getMessage()]


@contextmanager
def captured(*names: str) -> Iterator[Records]:
    """Records of what ``names`` (default: everything) log, at their own levels, while the block runs."""
    handler = Records()
    loggers = [logging.getLogger(name) for name in names or WATCHED]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
