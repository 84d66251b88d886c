"""Which channels a node reads: counted per key (``routes.topic_key``/``user_key``), once per
local socket, with what is asked, confirmed and waited for.

Pure bookkeeping, no Redis: ``server.adapters.cluster.redis_hub`` sends the SSUBSCRIBE and
SUNSUBSCRIBE this decides and reports the broker's confirmations here. A key whose last socket
left stays read ``LINGER`` seconds (a page reload, a reconnect, must not cost a subscription and
a read-back each), then is let go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.exceptions

from server.adapters.cluster.order import SeqGate
from server.adapters.cluster.routes import EVERYONE, topic_key, user_key
from server.chat.kernel.hub import MissedNews, TopicNews

log = logging.getLogger("parley.cluster")
LINGER = 10.0  # seconds a channel no socket wants any more is still read
READY_WAIT = 2.0  # seconds a socket's backlog waits at most for its channels' subscription
JOIN_MARGIN = 2.0  # seconds read back before a live socket's new topic was asked for
ASK_TIMEOUT = 2.0  # seconds an SSUBSCRIBE or SUNSUBSCRIBE may take
TROUBLE = (redis.exceptions.RedisError, OSError, TimeoutError)


class Subscriptions:
    def __init__(self, linger: float = LINGER) -> None:
        self.linger = linger
        self.wants: dict[str, int] = {}  # key -> local sockets that want it
        self.confirmed: set[str] = set()  # the broker said it is subscribed
        self.asked: set[str] = set()  # sent, not confirmed yet
        self.pending: set[str] = set()  # wanted, not confirmed: what ``ready`` waits for (no scan of all)
        self._idle: dict[str, float] = {}  # confirmed keys nobody wants, since (monotonic)
        self._waiters: dict[str, asyncio.Future[None]] = {}

    def want(self, keys: Iterable[str]) -> list[str]:
        """Count one more socket for each key: those neither confirmed nor asked (to subscribe)."""
        new: list[str] = []
        for key in keys:
            count = self.wants.get(key, 0)
            self.wants[key] = count + 1
            if count == 0:
                self._idle.pop(key, None)
                if key not in self.confirmed:
                    self.pending.add(key)
                    if key not in self.asked:
                        new.append(key)
        return new

    def drop(self, keys: Iterable[str]) -> None:
        now = time.monotonic()
        for key in keys:
            count = self.wants.get(key, 0) - 1
            if count > 0:
                self.wants[key] = count
                continue
            self.wants.pop(key, None)
            self.pending.discard(key)
            waiter = self._waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)  # nobody waits for it any more
            if key in self.confirmed or key in self.asked:
                self._idle[key] = now

    def wanted(self, key: str) -> bool:
        return key in self.wants

    def to_ask(self) -> list[str]:
        """Wanted keys neither confirmed nor asked: marked asked."""
        keys = [key for key in self.pending if key not in self.asked]
        self.asked.update(keys)
        return keys

    def confirm(self, key: str) -> bool:
        """The broker confirmed ``key``: True if it was asked (a new subscription)."""
        asked = key in self.asked
        self.asked.discard(key)
        self.confirmed.add(key)
        self.pending.discard(key)
        if key not in self.wants:
            self._idle.setdefault(key, time.monotonic())
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return asked

    def idle(self) -> list[str]:
        """Keys nobody has wanted for ``linger`` seconds: forgotten here, to let go of."""
        now = time.monotonic()
        gone = [key for key, since in self._idle.items() if now - since >= self.linger]
        for key in gone:
            del self._idle[key]
            self.confirmed.discard(key)
            self.asked.discard(key)
        return gone

    def lost(self) -> None:
        """The subscriber connection is gone: nothing is subscribed any more."""
        self.confirmed.clear()
        self.asked.clear()
        self._idle.clear()
        self.pending = set(self.wants)

    async def ready(self, timeout: float) -> None:
        """Return once every wanted key is confirmed, or after ``timeout`` seconds."""
        missing = list(self.pending)
        if not missing:
            return
        loop = asyncio.get_running_loop()
        waiters = [self._waiters.setdefault(key, loop.create_future()) for key in missing]
        await asyncio.wait(waiters, timeout=timeout)


class Subscribing:
    """The hub's side of ``Subscriptions``: the port the edge's registry calls (``want``, ``drop``,
    ``ready``), the SSUBSCRIBE and SUNSUBSCRIBE sent on the subscriber connection, and the
    read-back of a live socket's new topic. A part of ``redis_hub.RedisHub``."""

    subscriptions: Subscriptions
    gate: SeqGate
    missed: MissedNews | None
    prefix: str
    _pubsub: Any
    _asking: asyncio.Event
    _join_asked: dict[int, datetime]
    _heard: dict[str, dict[str, int]]
    _tasks: list[asyncio.Task[None]]

    def _name(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def _forget(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(ValueError):
            self._tasks.remove(task)

    def want(self, topics: Iterable[int] = (), users: Iterable[int] = (), read_back: bool = False) -> None:
        """Count a local socket's topics and user; subscribe to those not read yet (``_ask``)."""
        topics = tuple(topics)
        new = self.subscriptions.want([*map(topic_key, topics), *map(user_key, users)])
        if read_back:
            moment = datetime.now(UTC) - timedelta(seconds=JOIN_MARGIN)
            for topic in topics:
                if topic_key(topic) not in self.subscriptions.confirmed:
                    self._join_asked.setdefault(topic, moment)
                    self.gate.opening(topic)
        if new:
            self._asking.set()

    def drop(self, topics: Iterable[int] = (), users: Iterable[int] = ()) -> None:
        self.subscriptions.drop([*map(topic_key, topics), *map(user_key, users)])

    async def ready(self) -> None:
        if self._pubsub is not None:  # while the channel is down, the read-back covers it
            await self.subscriptions.ready(READY_WAIT)

    async def _ask(self) -> None:
        """Send the SSUBSCRIBE of the keys wanted since, in one command: the listener reads the
        confirmations (``_confirmed``)."""
        while True:
            await self._asking.wait()
            self._asking.clear()
            pubsub = self._pubsub
            if pubsub is None:
                continue  # subscribing again asks for everything wanted
            keys = self.subscriptions.to_ask()
            if not keys:
                continue
            try:
                async with asyncio.timeout(ASK_TIMEOUT):
                    await pubsub.ssubscribe(*(self._name(key) for key in keys))
            except TROUBLE as exc:  # the listener sees the channel lost and subscribes everything again
                log.warning("subscribing to %d hub channels failed (%r)", len(keys), exc)

    def _confirmed(self, key: str) -> None:
        self._heard.pop(key, None)  # numbers start over: the first one heard is the baseline
        self.subscriptions.confirm(key)
        if key.startswith("t:"):
            topic = int(key[2:])
            since = self._join_asked.pop(topic, None)
            if since is not None:
                task = asyncio.create_task(self._read_back(topic, since), name="parley-hub-join")
                self._tasks.append(task)
                task.add_done_callback(self._forget)

    async def _read_back(self, topic: int, since: datetime) -> None:
        """A live socket's new topic is heard now: what it got since shortly before it was asked
        for goes out first, and the topic's newest seq tells the gate which comes next
        (``SeqGate.opened``)."""
        news = TopicNews([], None)
        try:
            if self.missed is not None:
                news = await self.missed.in_topic_since(topic, since)
        except Exception as exc:  # the database is out of reach: what comes live still goes out
            log.warning("topic %s: could not read back what it got before it was heard (%s)", topic, exc)
        finally:
            await self.gate.opened(topic, news.events, news.last_seq)

    async def _let_go(self) -> None:
        """SUNSUBSCRIBE the channels nobody here has wanted for ``LINGER`` seconds."""
        keys = self.subscriptions.idle()
        for key in keys:
            self._heard.pop(key, None)
            if key.startswith("t:"):
                self.gate.forget(int(key[2:]))
        pubsub = self._pubsub
        if keys and pubsub is not None:
            with contextlib.suppress(*TROUBLE):
                async with asyncio.timeout(ASK_TIMEOUT):
                    await pubsub.sunsubscribe(*(self._name(key) for key in keys))

    def _lost(self) -> None:
        """The subscriber connection is gone: every channel is subscribed again with the next."""
        self.subscriptions.lost()
        for key in [key for key in self._heard if key != EVERYONE]:
            del self._heard[key]
