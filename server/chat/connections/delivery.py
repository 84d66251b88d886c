"""Offline delivery: cumulative ``delivered`` cursors and the backlog on connect.

Cursors only move forward. Acks are buffered in memory (the highest seq per
user and topic) and written in one statement per flush: every
``flush_interval`` seconds, before a backlog is computed and at shutdown;
never one UPDATE per message per recipient.

Errors: ``not_found`` (unknown topic or user; a private topic of others),
``forbidden`` (not subscribed to a public topic).
"""

from __future__ import annotations

import asyncio
import logging

from db.records import BacklogEntry
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.batching import Batched
from server.chat.kernel.events import Event, MessageCreated
from server.chat.kernel.periodic import Periodic
from server.chat.kernel.schemas import MessageOut, Target
from server.chat.kernel.views import backlog_view
from server.chat.rules.access import locate, require_member

log = logging.getLogger("parley.delivery")
MAX_REMEMBERED = 100_000
RENDERED_KEPT = 2048  # backlog entries' renderings kept (``db.reads.ENTRIES_KEPT`` entries are)


class DeliveryService:
    def __init__(self, db: Database, cap_per_topic: int, flush_interval: float) -> None:
        self.db = db
        self.cap = cap_per_topic
        self._flusher = Periodic(self.flush, flush_interval, "flushing delivery cursors")
        self._pending: dict[tuple[int, int], int] = {}
        self._flushing = asyncio.Lock()
        self._checked: dict[tuple[int, str], int] = {}
        self._last_seq: dict[int, int] = {}
        # A reconnect storm's backlogs, read together: one statement for the users asking at once
        self._backlogs: Batched[int, list[MessageOut]] = Batched(self._read_backlogs, list)
        self._rendered: dict[int, tuple[BacklogEntry, MessageOut]] = {}  # by id(entry)

    async def _read_backlogs(self, user_ids: list[int]) -> dict[int, list[MessageOut]]:
        """Each user's backlog as its user sees it. The reads hand the users of a topic the same
        entries, batch after batch (``db.reads``); each is rendered once and that is handed to
        each of them (a storm of 10,000 reconnecting members of 100 topics renders 2,000 messages,
        not 200,000), but an entry with reactions, whose ``me`` is the viewer's."""
        entries = await self.db.reads.backlogs(user_ids, self.cap)
        rendered = self._rendered
        views: dict[int, list[MessageOut]] = {}
        for user_id, found in entries.items():
            mine = views[user_id] = []
            for entry in found:
                if entry.extras.reactions:
                    mine.append(backlog_view(entry, user_id))
                    continue
                kept = rendered.get(id(entry))
                if kept is None or kept[0] is not entry:  # the entry kept alive: its id is its own
                    if len(rendered) >= RENDERED_KEPT:
                        rendered.clear()
                    kept = rendered[id(entry)] = (entry, backlog_view(entry))
                mine.append(kept[1])
        return views

    def note_stored(self, topic_id: int, seq: int) -> None:
        """A message with ``seq`` exists in the topic."""
        if seq > self._last_seq.get(topic_id, 0):
            self._last_seq[topic_id] = seq

    async def deliver(self, event: Event) -> None:
        """As a hub sink: every message stored on any node raises the topic's known last seq.

        An ack past what this node knows reads the topic's ``last_seq`` again (``acknowledge``),
        so an ack is never clamped below a message it covers, whichever node stored it.
        """
        if isinstance(event, MessageCreated):
            self.note_stored(event.topic_id, event.message.seq)

    async def acknowledge(self, actor: Actor, target: Target, seq: int) -> None:
        """Record that the user has everything up to ``seq``, clamped to the topic's last seq.

        Clients ack continuously, so after the first ack of a user for a topic the check is
        remembered: later acks cost a dict look-up, no database work. The flush only updates
        an existing membership, so a remembered check can never create or move anything else.
        The clamp uses the last seq this process knows of (read at the check, raised by every
        message of the topic this node hears through the hub): never above the real one, so no
        message is skipped; the flush clamps again by the database's own ``last_seq``. A node
        hears only the topics of its own sockets, so an ack past what it knows (a client whose
        socket is on another node, acking here over REST) is checked again, not clamped low.
        """
        checked = (actor.id, target.describe().lower())
        topic_id = self._checked.get(checked)
        if topic_id is not None and seq > self._last_seq.get(topic_id, 0):
            topic_id = None  # past what this node heard (its hub reads only its sockets' topics): ask again
        if topic_id is None:
            async with self.db.read() as repos:
                found = await locate(repos, actor, target)
                if found is None:
                    return
                await require_member(repos, found.place, actor, "acknowledge")
            topic_id = found.topic.id
            self.note_stored(topic_id, found.topic.last_seq)
            if len(self._checked) >= MAX_REMEMBERED:
                self._checked.clear()
            self._checked[checked] = topic_id
        seq = min(seq, self._last_seq.get(topic_id, 0))
        key = (actor.id, topic_id)
        if seq > self._pending.get(key, 0):
            self._pending[key] = seq

    async def flush(self) -> None:
        """Write the pending cursors; returns only once every ack recorded before the call is stored.

        One flush at a time: a flush that finds another one writing (the periodic one, say,
        which took the pending cursors and has not committed yet) waits for it first.
        """
        async with self._flushing:
            if not self._pending:
                return
            batch, self._pending = self._pending, {}
            try:
                async with self.db.write() as repos:
                    await repos.memberships.advance_delivered((u, t, s) for (u, t), s in batch.items())
            except BaseException:
                for key, seq in batch.items():  # keep them for the next round
                    self._pending[key] = max(seq, self._pending.get(key, 0))
                raise

    async def backlog(self, user_id: int) -> list[MessageOut]:
        """What the user has not acknowledged: per topic oldest first, capped per topic.

        One query for every topic of the user, whatever their number, and for every user whose
        backlog is asked for at the same moment (``Batched``): each gets what a read of its own
        would have returned. The flush first: every ack recorded before the call counts.
        """
        await self.flush()
        return list(await self._backlogs.get(user_id))  # two sockets of a user: a list each

    def start(self) -> None:
        self._flusher.start()

    async def stop(self) -> None:
        await self._flusher.stop()
        await self.flush()
