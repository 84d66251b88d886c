"""The audit log's two halves: the commit handler that writes a row for each ``Acted`` fact of a
transaction, before it commits (so a row exists exactly when its action does), and the service
operators read it through (``parley audit``, the Admin UI's Audit log page).

The code that makes a change notes the fact (``repos.note(Acted(...))``) and names no listener;
this package registers the handler (``assembly.py``). An action that is not a transaction of its
own (an Admin UI login, a token issued at the command line, a search reindex run in batches) is
recorded with ``AuditService.record``: one short transaction holding just the row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from db.audit.repository import AuditRepository
from db.records import AuditRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.audit.schemas import AuditEntryOut, AuditOut
from server.chat.kernel.actors import Doer
from server.chat.kernel.facts import Acted
from server.chat.kernel.views import iso_required

LISTED = 100  # rows a listing gives unless asked for another number
MAX_LISTED = 10_000


class AuditWriter:
    """The commit handler (``Database.before_commit``): each ``Acted`` fact becomes one row, in the
    same transaction, stamped with the time the handler runs (the commit's)."""

    async def __call__(self, repos: Repositories, recorded: Sequence[object]) -> None:
        now: datetime | None = None
        for fact in recorded:
            if isinstance(fact, Acted):
                now = now or datetime.now(UTC)
                await repos.of(AuditRepository).add(
                    now,
                    fact.by.id,
                    fact.by.name,
                    fact.action,
                    fact.target,
                    fact.topic,
                    dict(fact.details),
                )


class AuditService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        by: Doer,
        action: str,
        target: str | None = None,
        topic: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """A row for an action that changed nothing else (a login, a token issued)."""
        async with self.db.write() as repos:
            repos.note(Acted(by, action, target, topic, details or {}))

    async def newest(
        self,
        limit: int = LISTED,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
    ) -> AuditOut:
        """Newest first, at most ``limit`` (1 to ``MAX_LISTED``) rows, filtered by the actor's name
        (any case), the action and a first moment."""
        async with self.db.read() as repos:
            rows = await repos.of(AuditRepository).newest(
                max(1, min(limit, MAX_LISTED)), actor, action, since
            )
        return AuditOut(entries=[entry_view(row) for row in rows])


def entry_view(row: AuditRecord) -> AuditEntryOut:
    return AuditEntryOut(
        id=row.id,
        at=iso_required(row.at),
        actor=row.actor,
        actor_id=row.actor_id,
        action=row.action,
        target=row.target,
        topic=row.topic,
        details=row.details,
    )
