"""Reports (PROTOCOL.md section 10): a reader tells the operator about a message.

``report`` stores who reported which message, why and when, and tells nobody (no event). A
message the reporter may not read is ``not_found``, worded as for one that does not exist (section
3's privacy rule). The operator reads them newest first (``parley reports``, the Admin UI's Reports
page) and acts with the operator services: ``MessageService.remove`` deletes the message as its
sender would, ``AccountService.disable`` disables its sender.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from db.records import ReportRecord
from db.uow import Database
from server.chat.kernel.actors import Actor, Doer
from server.chat.kernel.facts import Acted
from server.chat.kernel.schemas import Empty
from server.chat.kernel.views import Kind, iso_required
from server.chat.moderation.schemas import ReportedMessageOut, ReportOut, ReportsOut
from server.chat.rules.access import locate_message

EXCERPT_CHARS = 100
LISTED = 500  # ``parley reports`` and the Admin UI list the newest this many


class ReportService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def report(self, actor: Actor, message_id: int, reason: str) -> Empty:
        """Store the report; ``not_found`` for a message the actor may not read (or a deleted one)."""
        async with self.db.write() as repos:
            await locate_message(repos, actor, message_id)
            await repos.reports.add(actor.id, message_id, reason, datetime.now(UTC))
            repos.note(Acted(Doer.of(actor), "message.report", str(message_id)))  # not the reason
        return Empty()

    async def newest(self, limit: int = LISTED) -> ReportsOut:
        """The operator's list, newest first."""
        async with self.db.read() as repos:
            rows = await repos.reports.newest(limit)
        return ReportsOut(reports=[_report(row) for row in rows])


def _report(row: ReportRecord) -> ReportOut:
    deleted = row.deleted_at is not None or row.body is None
    return ReportOut(
        id=row.id,
        created_at=iso_required(row.created_at),
        reporter=row.reporter,
        reason=row.reason,
        message=ReportedMessageOut(
            id=row.message_id,
            topic=_topic(row),
            kind=cast(Kind | None, row.topic_kind),
            seq=row.seq,
            sender=row.sender,
            excerpt="" if deleted or row.body is None else row.body[:EXCERPT_CHARS],
            deleted=deleted,
            link=_link(row),
        ),
    )


def _topic(row: ReportRecord) -> str | None:
    if row.topic_kind == "direct":
        return f"@{row.sender}/@{row.reporter}"
    return row.topic_name


def _link(row: ReportRecord) -> str | None:
    """The history page that holds just this message, readable by the reporter's token."""
    if row.seq is None or row.topic_name is None:
        return None
    page = f"messages?before_seq={row.seq + 1}&limit=1"
    if row.topic_kind == "direct":
        return f"/api/conversations/{row.sender}/{page}"
    return f"/api/topics/{row.topic_name}/{page}"
