"""How a message gets into the notifier's queue (PROTOCOL.md section 15), always in the
transaction that stored it, so a restart loses none and the send never waits for a decision.

``NotifySendHook`` is a send hook (``server.chat.conversations.writer.SendHook``): a message that
may notify (a direct message, or one that mentions members by name or ``@all``) writes one
``notify_jobs`` row in its send batch's transaction, due ``push_delay`` seconds after the send;
any other message costs one check of what the send already resolved. A system message notifies
nobody but a call's start (PROTOCOL.md section 18: every member, as ``@all`` does), and an edit
that adds mentions does not notify either (only a new message does).

Once the batch committed the hook tells this node's ``Bell`` when its earliest job is due, so
the notifier wakes then rather than at its next poll; other nodes find the job when they poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from db.records import NotifyJobRow
from db.sends import Stored
from server.chat.conversations.writer import Pending


class Bell:
    """Wakes this node's notifier: a job was written here, due at ``soonest`` at the latest."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.soonest: datetime | None = None

    def due(self, at: datetime) -> None:
        if self.soonest is None or at < self.soonest:
            self.soonest = at
        self.event.set()


def rings(system: dict[str, Any] | None) -> bool:
    """A call's start (PROTOCOL.md section 18): the one system message that notifies, as ``@all``
    does (every member but its sender)."""
    return system is not None and system.get("action") == "call" and "duration_s" not in system


class NotifySendHook:
    def __init__(self, bell: Bell, delay: float) -> None:
        self.bell = bell
        self.delay = timedelta(seconds=delay)
        self._due: datetime | None = None  # the earliest job of the batch being stored

    def rows(self, pending: Pending) -> Callable[[Stored], Sequence[NotifyJobRow]] | None:
        destination = pending.destination
        assert destination is not None, "a send is resolved before its rows are asked"
        extras = destination.extras
        if not (destination.place.direct or destination.mentioned or extras.mentions_all):
            if extras.type != "system" or not rings(extras.system):
                return None  # the hot path's one check (and one comparison)
        elif extras.type == "system" and not rings(extras.system):
            return None
        due = pending.created_at + self.delay
        if self._due is None or due < self._due:
            self._due = due

        def job(stored: Stored) -> Sequence[NotifyJobRow]:
            return (NotifyJobRow(stored.id, due),)

        return job

    def committed(self) -> None:
        if self._due is not None:
            self.bell.due(self._due)
            self._due = None
