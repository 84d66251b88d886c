"""The kinds of row a message may carry into its send batch (``NewMessage.with_rows``).

The send store (``db/sends.py``) writes a batch's rows of one kind with one statement, and learns
how from ``WITH_ROWS``: each kind joins it from its own capability, where its table is
(``db/integrations/records.py``: the outgoing webhooks' deliveries; ``db/notifications/records.py``:
the messages that may notify). The store names none of them. A kind joins where its class is
defined, so any row that exists has its kind known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RowKind:
    """How a kind of row written with a message is inserted: the statement (placeholders ``{0}``,
    ``{1}``, ...) and the values of one row (times as ``datetime``)."""

    insert: str
    values: Callable[[Any], tuple[Any, ...]]


WITH_ROWS: dict[type, RowKind] = {}
"""The kinds of row a message may carry, by their class: read per row by the send batch."""
