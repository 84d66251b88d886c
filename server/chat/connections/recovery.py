"""Connection-state recovery: private session ids (pids) and the replay after a client's offset.

A client that opts in gets a random ``pid``, stored with its user (``recovery_session``), and
then sees an offset (a message id) on each live message. Coming back with ``{pid, offset}``
within ``window`` seconds of the pid's last sign of life, it gets the same pid and, instead of
the backlog, every live message of its topics after that offset, plus those stored less than
``margin`` seconds before it: across nodes, messages of different topics are not delivered in
id order, and the margin covers that (duplicates are harmless: clients drop them by id).

A pid is stored, not held in memory, so it survives a restart and works on every node: each
process marks the pids of its open sockets as seen every ``window / 4`` seconds (one statement)
and deletes the pids nobody has seen for a window.

Errors: none. An unknown, expired or another user's pid, or an offset that is not a message id,
is a normal connection: a new pid and the backlog.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from db.uow import Database
from server.chat.kernel.periodic import Periodic
from server.chat.kernel.schemas import MessageOut
from server.chat.kernel.views import backlog_view

MAX_PID_CHARS = 64
MAX_ID = 2**63 - 1  # message ids are BIGINT on PostgreSQL


@dataclass(frozen=True)
class Recovery:
    """What a client asked for: a new pid (``pid`` None), or resuming ``pid`` after ``offset``.

    Both are kept as the client sent them; ``RecoveryService.grant`` decides what they are worth.
    """

    pid: Any = None
    offset: Any = None


@dataclass(frozen=True)
class Granted:
    """The connection's pid; ``after_id`` is the offset it resumes from (None: a new session)."""

    pid: str
    after_id: int | None = None


def message_id(offset: Any) -> int | None:
    """The message id an offset names (a decimal string, or an int), or None if it names none."""
    if isinstance(offset, str) and offset.isascii() and offset.isdigit() and len(offset) <= 19:
        offset = int(offset)
    if isinstance(offset, int) and not isinstance(offset, bool) and 0 <= offset <= MAX_ID:
        return offset
    return None


class RecoveryService:
    def __init__(self, db: Database, window: float, margin: float, cap_per_topic: int) -> None:
        self.db = db
        self.window = window
        self.margin = margin
        self.cap = cap_per_topic
        self._open: Counter[str] = Counter()  # pids of the sockets open in this process
        self._refresher = Periodic(self.refresh, window / 4, "refreshing recovery sessions")

    @property
    def enabled(self) -> bool:
        return self.window > 0

    async def grant(self, user_id: int, asked: Recovery) -> Granted | None:
        """The pid of a connection that asked for recovery (None when recovery is off).

        The asked pid is resumed when it is known, the user's own, seen within the window, and
        the offset names a message id; otherwise a new pid is issued.
        """
        if not self.enabled:
            return None
        now = datetime.now(UTC)
        after_id = message_id(asked.offset)
        async with self.db.write() as repos:
            if isinstance(asked.pid, str) and 0 < len(asked.pid) <= MAX_PID_CHARS and after_id is not None:
                known = await repos.recovery.by_pid(asked.pid)
                if known is not None and known.user_id == user_id and self._fresh(known.seen_at, now):
                    await repos.recovery.seen([asked.pid], now)
                    return Granted(asked.pid, after_id)
            pid = secrets.token_urlsafe(16)
            await repos.recovery.add(pid, user_id, now)
        return Granted(pid)

    def _fresh(self, seen_at: datetime, now: datetime) -> bool:
        if seen_at.tzinfo is None:  # SQLite hands back naive datetimes that are UTC
            seen_at = seen_at.replace(tzinfo=UTC)
        return now - seen_at <= timedelta(seconds=self.window)

    async def replay(self, user_id: int, after_id: int) -> list[MessageOut]:
        """What a resumed session missed: per topic oldest first, capped like the backlog.

        One query for every topic of the user. Messages as they are now (edits applied,
        deleted ones left out); edits, deletions, typing and read marks are not replayed.
        """
        entries = await self.db.reads.replay(user_id, after_id, self.margin, self.cap)
        return [backlog_view(entry, user_id) for entry in entries]

    def opened(self, pid: str) -> None:
        self._open[pid] += 1

    async def closed(self, pid: str) -> None:
        """A socket of ``pid`` closed: its window starts now.

        The pid counts as open until the close is stored, so that once it is not open here its
        ``seen_at`` is final: no refresh marks it later, and none is left to come.
        """
        try:
            async with self.db.write() as repos:
                await repos.recovery.seen([pid], datetime.now(UTC))
        finally:
            self._open[pid] -= 1
            if self._open[pid] <= 0:
                del self._open[pid]

    def is_open(self, pid: str) -> bool:
        """Whether a socket of ``pid`` is open here, or its close not yet stored."""
        return pid in self._open

    async def refresh(self) -> None:
        """Mark this process's open pids as seen (one statement); forget the expired ones."""
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            await repos.recovery.seen(list(self._open), now)
            await repos.recovery.forget_before(now - timedelta(seconds=self.window))

    def start(self) -> None:
        if self.enabled:
            self._refresher.start()

    async def stop(self) -> None:
        await self._refresher.stop()
        if self.enabled:
            await self.refresh()  # a restart within the window keeps the open sockets' pids
