"""The previews' part of the composition. They listen: a new message's job is a send hook on the
conversations' port, an edit's a commit handler; the worker runs only in a serving process with a
page source (``PARLEY_PREVIEWS=off`` hands none: no job is written and nothing is fetched)."""

from __future__ import annotations

from dataclasses import dataclass

from db.engine import is_sqlite
from server.chat.conversations.assembly import Conversations
from server.chat.kernel.wiring import Wiring
from server.chat.previews.ports import PageSource
from server.chat.previews.queue import Bell, PreviewOnEdit, PreviewSendHook
from server.chat.previews.service import PreviewService
from server.chat.previews.worker import PreviewWorker


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Link previews (PROTOCOL.md section 13)."""

    preview_ttl: float  # seconds a URL's preview is kept


@dataclass(frozen=True)
class Previews:
    service: PreviewService
    worker: PreviewWorker | None  # a serving process's, when previews are on


def build(w: Wiring, limits: Limits, conversations: Conversations, source: PageSource | None) -> Previews:
    service = PreviewService(w.db)
    if source is None:
        return Previews(service, None)
    bell = Bell()
    conversations.send_hooks.append(PreviewSendHook(bell))  # a new message's links -> a job row
    w.before_commit(PreviewOnEdit(bell))  # an edit -> its job due again
    writer = conversations.messages.writer
    worker = PreviewWorker(
        w.db, source, bell, ttl=limits.preview_ttl, single=is_sqlite(w.db.url), sends=writer
    )
    w.part("previews worker", worker.start, worker.stop, serving=True)
    return Previews(service, worker)
