"""Who is online, with a grace period against reload flapping.

A user is online while at least one socket is connected on any node (the
``OnlineRegistry`` port answers for the deployment; this service counts its
own node's sockets). The first socket anywhere sends ``online: true`` at
once; after the last one here closes the user stays here for ``grace``
seconds (at most 3): a socket opened meanwhile cancels the offline transition
and nothing is sent. Going offline everywhere stores ``last_seen``, also for
the users of a node that died. Presence goes only to users who share a
private topic or a direct conversation, never to public-topic crowds, and never
between two users one of whom blocked the other (PROTOCOL.md section 10).

Going offline needs the database (``last_seen``, and the partners to tell): while it is down
(``server.chat.kernel.outage``) the transition is tried again with backoff until it answers, unless the
user came back meanwhile, so that no one is left shown online after the outage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime

from db.uow import Database
from server.chat.kernel.events import PresenceChanged, ToUsers
from server.chat.kernel.hub import Hub
from server.chat.kernel.online import LocalRegistry, OnlineRegistry
from server.chat.kernel.outage import DATABASE, Backoff
from server.chat.kernel.views import iso
from server.chat.presence.activity import Activity
from server.chat.rules.blocking import Blocks

OFFLINE_RETRY, OFFLINE_RETRY_MAX = 0.5, 2.0  # seconds between offline tries through an outage
CLOSE_WAIT = 5.0  # seconds a shutdown waits for offline transitions in flight


class PresenceService:
    def __init__(
        self,
        db: Database,
        hub: Hub,
        grace: float,
        registry: OnlineRegistry | None = None,
        blocks: Blocks | None = None,
        away_after: float = 600.0,
    ) -> None:
        self.db = db
        self.hub = hub
        self.blocks = blocks  # presence skips blocked pairs both ways (PROTOCOL.md section 10)
        self.grace = grace
        self.registry: OnlineRegistry = registry or LocalRegistry()
        self._sockets: dict[int, int] = {}
        self._leaving: dict[int, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.activity = Activity(db, away_after, self.idle_changed)  # away from activity (section 14)

    async def start(self) -> None:
        await self.registry.start(self._gone_elsewhere)

    async def is_online(self, user_id: int) -> bool:
        return bool(await self.registry.online_among((user_id,)))

    async def online_among(self, user_ids: Iterable[int]) -> set[int]:
        return await self.registry.online_among(user_ids)

    def sockets_here(self, user_id: int) -> int:
        """The user's sockets on this node that make them online (the server API sums every node's)."""
        return self._sockets.get(user_id, 0)

    def here(self) -> tuple[int, int]:
        """(open sockets, connected users) on this node, for its heartbeat row (``nodes.py``)."""
        return sum(self._sockets.values()), len(self._sockets)

    async def socket_opened(
        self,
        user_id: int,
        username: str,
        shares: bool = True,
        availability: tuple[str, bool] | None = None,
    ) -> None:
        """Count an opened socket; the user's first anywhere tells their partners they came online.

        The caller may have read the user's memberships and availability (one read, with the
        connection's topics): ``shares`` says whether the user is in a private topic or a direct
        conversation, and ``availability`` is (chosen, idle). Without partners their read, which
        would find none, is skipped; with the availability, its own read is. Each was a round trip
        to the database per connect (most of a connect's CPU is round trips).
        """
        count = self._sockets.get(user_id, 0)
        self._sockets[user_id] = count + 1
        self.activity.opened(user_id, username)
        leaving = self._leaving.pop(user_id, None)
        if leaving is not None:
            leaving.cancel()
            return
        if count == 0 and await self.registry.arrive(user_id):
            chosen, idle = availability or await self.db.reads.availability(user_id) or ("auto", False)
            if idle:  # a new session starts active; a write only then (it was most of a connect's CPU)
                async with self.db.write() as repos:
                    await repos.people.wake(user_id, datetime.now(UTC))
            if shares:
                await self._announce(user_id, username, True, None, chosen if chosen != "auto" else "online")

    async def idle_changed(self, user_id: int, username: str, availability: str) -> None:
        """``Activity`` made the user away, or active again: shown when they chose ``auto``."""
        async with self.db.read() as repos:
            user = await repos.users.by_id(user_id)
        if user is not None and user.availability == "auto":
            await self._announce(user_id, username, True, None, availability)

    async def chosen(self, user_id: int, username: str, availability: str) -> None:
        """The user chose ``auto``, ``away`` or ``dnd`` (stored by the caller): partners hear what
        it makes them, if they are online."""
        if not await self.is_online(user_id):
            return
        if availability == "auto":
            async with self.db.read() as repos:
                user = await repos.users.by_id(user_id)
            availability = "away" if user is not None and user.idle else "online"
        await self._announce(user_id, username, True, None, availability)

    async def socket_closed(self, user_id: int, username: str) -> bool:
        """Count a closed socket; True when it was the user's last one here."""
        count = self._sockets.get(user_id, 0) - 1
        if count > 0:
            self._sockets[user_id] = count
            return False
        self._sockets.pop(user_id, None)
        self.activity.closed(user_id)
        task = asyncio.create_task(self._go_offline(user_id, username))
        self._leaving[user_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _go_offline(self, user_id: int, username: str) -> None:
        try:
            await asyncio.sleep(self.grace)
        except asyncio.CancelledError:  # a socket came back (or shutdown): nothing to send
            return
        if self._leaving.get(user_id) is not asyncio.current_task():
            return
        # From here on the task is no longer cancellable through _leaving: it finishes its write.
        del self._leaving[user_id]
        if await self.registry.leave(user_id):  # not on another node either
            await self._offline_through_outage(user_id, username)

    async def _offline_through_outage(self, user_id: int, username: str) -> None:
        backoff = Backoff(OFFLINE_RETRY, ceiling=OFFLINE_RETRY_MAX)
        while True:
            try:
                await self._went_offline(user_id, username)
            except Exception as exc:
                if not DATABASE.failed(exc, "announcing a user offline"):
                    raise
            else:
                if backoff.failing:
                    DATABASE.recovered()
                return
            backoff.failed()
            await asyncio.sleep(backoff.delay)
            if user_id in self._sockets or await self.is_online(user_id):
                return  # back meanwhile: online again, nothing to announce

    async def _went_offline(self, user_id: int, username: str) -> None:
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            await repos.users.set_last_seen(user_id, now)
        await self._announce(user_id, username, False, iso(now), "offline")

    async def _gone_elsewhere(self, user_ids: list[int]) -> None:
        """Users of a node that died (and on no other node): offline, as if they had left. In a
        task of its own: the registry's heartbeat that calls this must not wait out an outage
        (its node would look dead), and the registry has forgotten these users already, so a
        failure here must not lose them."""
        task = asyncio.create_task(self._take_over(user_ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _take_over(self, user_ids: list[int]) -> None:
        backoff = Backoff(OFFLINE_RETRY, ceiling=OFFLINE_RETRY_MAX)
        while True:
            try:
                async with self.db.read() as repos:
                    users = await repos.users.by_ids(user_ids)
                break
            except Exception as exc:
                if not DATABASE.failed(exc, "taking over a dead node's users"):
                    raise
            backoff.failed()
            await asyncio.sleep(backoff.delay)
        for user in users:
            if user.id is not None and user.id not in self._sockets and user.id not in self._leaving:
                await self._offline_through_outage(user.id, user.username)

    async def _announce(
        self, user_id: int, username: str, online: bool, last_seen: str | None, availability: str
    ) -> None:
        """To the partners: those who share a private topic or a direct conversation (section 4)."""
        partners = await self.db.reads.partners(user_id)
        if partners and self.blocks is not None and (apart := await self.blocks.apart(user_id)):
            partners = [partner for partner in partners if partner not in apart]
        if partners:
            audience = ToUsers(tuple(partners))
            await self.hub.publish(PresenceChanged(username, online, last_seen, audience, availability))

    async def close(self) -> None:
        """Shutdown: drop pending grace periods, let offline writes in flight finish."""
        for task in list(self._leaving.values()):
            task.cancel()
        self._leaving.clear()
        if self._tasks:  # bounded: a transition waiting out the database's outage is dropped
            _done, waiting = await asyncio.wait(set(self._tasks), timeout=CLOSE_WAIT)
            for task in waiting:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.registry.stop()
