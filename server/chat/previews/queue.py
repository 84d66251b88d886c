"""How a message gets into the previews' queue (PROTOCOL.md section 13), always in the transaction
that stored or edited it, so a restart loses none and the send never waits for a fetch.

``PreviewSendHook`` is a send hook (``server.chat.conversations.writer.SendHook``): a new message
with links is its own queue entry (stored with ``previews`` NULL it waits in the partial index
``ix_messages_previews_waiting``: ``db.previews.repository``), so the hook writes nothing and
only rings the bell once the batch committed; a message without links costs one tuple check.
``PreviewOnEdit`` is a commit handler (``Database.before_commit``): an edit of a message that has
links or previews makes its job due again, so the previews follow the new links. Either rings the
``Bell`` of this node's worker; other nodes find the message when they poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from db.repositories import Repositories
from db.sends import Rows
from server.chat.conversations.writer import WAKE_ONLY, Pending
from server.chat.kernel.events import MessageEdited


class Bell:
    """Wakes this node's worker: a job was written here."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def ring(self) -> None:
        self.event.set()


class PreviewSendHook:
    def __init__(self, bell: Bell) -> None:
        self.bell = bell

    def rows(self, pending: Pending) -> Rows | None:
        destination = pending.destination
        assert destination is not None, "a send is resolved before its rows are asked"
        return WAKE_ONLY if destination.extras.links else None  # the hot path's one check

    def committed(self) -> None:
        self.bell.ring()


class PreviewOnEdit:
    def __init__(self, bell: Bell) -> None:
        self.bell = bell

    async def __call__(self, repos: Repositories, recorded: Sequence[object]) -> None:
        done: set[int] = set()
        for event in recorded:
            if not isinstance(event, MessageEdited) or event.message.id in done:
                continue
            message = event.message
            if message.links or message.previews:
                done.add(message.id)
                await repos.previews.enqueue(message.id, datetime.now(UTC))
        if done:
            self.bell.ring()  # before the commit: the worker looks again after its poll if early
