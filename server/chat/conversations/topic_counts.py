"""A topic's ``members`` and ``online`` counts as topic views show them (PROTOCOL.md section 3).

Why not count every time: every new account joins the default topics (#lobby), and the page asks
``topic:list`` when it opens, after presence news and every 30 s. Counted on each view, #lobby's
online members meant reading every member's id and asking presence about each: with 50,000
accounts a list took 162 ms (``bench/topic_list.py``), and 50,000 open pages asked for about 1,700
lists a second. So a crowded topic (more than ``crowd`` members) is counted once per node every
``fresh`` seconds, by one caller while the others wait for its count; a smaller topic is counted
exactly on every view, as before. The page keeps a shown count live by ``topic:member`` news.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from db.repositories import Repositories

OnlineAmong = Callable[[Iterable[int]], Awaitable[set[int]]]

CROWD = 500
"""Members past which a topic's counts are kept for ``FRESH`` seconds instead of made each view."""
FRESH = 5.0
"""Seconds a crowded topic's counts are shown before they are counted again (on this node)."""


@dataclass(frozen=True, slots=True)
class Counted:
    members: int
    online: int
    at: float  # the clock's reading when counted


class Recount(Exception):
    """The caller that was counting a crowded topic failed or was cancelled: count it yourself."""


class TopicCounts:
    """``members`` and ``online`` of topics; one per node, shared by every view it makes."""

    def __init__(
        self,
        online_among: OnlineAmong,
        crowd: int = CROWD,
        fresh: float = FRESH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.online_among = online_among
        self.crowd = crowd
        self.fresh = fresh
        self.clock = clock
        self.counted = 0  # crowded topics counted (tests and benches compare it with the views)
        self.waited = 0  # times a caller waited for another's count
        self._kept: dict[int, Counted] = {}
        self._counting: dict[int, asyncio.Future[Counted]] = {}

    async def of(self, repos: Repositories, topic_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """``(members, online)`` of each topic given."""
        now = self.clock()
        counts: dict[int, tuple[int, int]] = {}
        for topic_id in topic_ids:
            kept = self._kept.get(topic_id)
            if kept is not None and now - kept.at < self.fresh:
                counts[topic_id] = (kept.members, kept.online)
        rest = [topic_id for topic_id in topic_ids if topic_id not in counts]
        if not rest:
            return counts
        sizes = await repos.memberships.member_counts(rest)
        small = [topic_id for topic_id in rest if sizes[topic_id] <= self.crowd]
        for topic_id in rest:
            if sizes[topic_id] > self.crowd:
                kept = await self._crowded(repos, topic_id)
                counts[topic_id] = (kept.members, kept.online)
            else:
                self._kept.pop(topic_id, None)  # no longer crowded
        if not small:
            return counts
        by_topic = await repos.memberships.members_by_topic(small)
        users = {user for members in by_topic.values() for user in members}
        online = await self.online_among(users) if users else set()
        for topic_id, members in by_topic.items():
            counts[topic_id] = (len(members), len(online.intersection(members)))
        return counts

    async def _crowded(self, repos: Repositories, topic_id: int) -> Counted:
        """The topic's counts, kept or made now; one caller counts while the others wait for it."""
        while (counting := self._counting.get(topic_id)) is not None:
            self.waited += 1
            try:
                return await asyncio.shield(counting)  # a waiter's cancellation leaves the count be
            except Recount:
                continue  # the counter failed: the next caller counts
        kept = self._kept.get(topic_id)
        if kept is not None and self.clock() - kept.at < self.fresh:
            return kept  # counted while this caller read the sizes
        counting = asyncio.get_running_loop().create_future()
        self._counting[topic_id] = counting
        try:
            members = (await repos.memberships.members_by_topic([topic_id]))[topic_id]
            online = len(await self.online_among(members))
            kept = Counted(len(members), online, self.clock())
            self.counted += 1
            self._kept[topic_id] = kept
            counting.set_result(kept)
            return kept
        finally:
            del self._counting[topic_id]
            if not counting.done():
                counting.set_exception(Recount())
                counting.exception()  # retrieved: no waiter may be left to see it
