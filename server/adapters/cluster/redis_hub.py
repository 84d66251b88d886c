"""The hub across nodes: every event reaches the sinks of the nodes it concerns, through Redis pub/sub.

A node delivers its own events to its own sinks at once and publishes them,
in one message per commit, on the channel; every other node reads them and
delivers them to its sinks. So a membership change moves the member's sockets
on every node, a logout closes them on every node, the membership and token
caches stay exact everywhere, and each transport's sink only ever touches its
own node's connections. ``MessageCreated`` goes through a ``SeqGate`` on
every node, local or remote, so each socket sees a topic in ``seq`` order.

The database is the source, the hub only the news (PROTOCOL.md section 4,
"Several nodes"). Redis pub/sub forgets what it could not hand over: a node
cut from Redis misses what is published meanwhile, and a publish that fails
reaches nobody. So:

- A publish never fails a send and never holds it up: it is given
  ``PUBLISH_TIMEOUT`` seconds, and while the channel is down the node does not
  try (its heartbeat probes). The send was stored; its own sockets have it.
  The other news it could not publish (edits, reactions, memberships,
  presence, ...) is kept, up to ``UNSENT`` events, and published in order once
  the heartbeat goes through again: late, not lost.
- Each node numbers its messages on the channel and publishes a heartbeat
  every ``HEARTBEAT`` seconds. A receiver that sees a node's number jump (its
  own included: what it published did not make it) missed news; one that
  hears nothing, not even its own heartbeat, for ``SILENT_AFTER`` seconds has
  lost the channel (a broker that died or hangs) and subscribes again. Either
  way it tells its sinks ``NewsMissed`` (caches read again, memberships made
  true) and reads every message stored since it last knew the channel whole
  (less a margin) back from the database (``Hub.missed``) into its gate, which
  drops what its sockets had already: the connected clients get what they
  missed live, in order, without reconnecting. It reads after it has
  subscribed again, so nothing falls between the two.
- A gap in one topic that the gate waited for in vain is read from the
  database as well (``SeqGate.fill``).

Routing (issue 58): a node reads only what its sockets are for. ``routes.route`` gives each
event its channels: a topic's news on ``{channel}:t:{id}``, a user's on ``{channel}:u:{id}``,
what every node's caches follow (memberships, revocations, mutes, blocks, ...) and every
heartbeat on the broadcast channel ``{channel}:hub``. The topic and user channels are Redis 7
sharded channels (SSUBSCRIBE/SPUBLISH): on one Redis they share the node's one subscriber
connection with the broadcast channel (so the heartbeat on it proves them all alive), and on a
Redis Cluster each lives on one shard instead of being copied to every shard. A node subscribes
to the topics its registered sockets follow and to their users (``want``, counted per socket by
``server.edge.realtime.registry``), waits for the broker's confirmation before a socket's
backlog is read (``ready``), and lets a channel go ``subscriptions.LINGER`` seconds after its
last socket left. A socket moved into a topic while live (a membership) has what the topic got
before the subscription was in place read back from the database (``JOIN_MARGIN`` seconds
before it was asked) and delivered before what came after, through the gate (``opening``).

Numbers are per (node, channel): a jump on any channel is missed news, read back as above. So a
node's messages must reach Redis in the order they were numbered: every publish goes through one
writer (``hub_writer.OrderedWriter``).
A publish that fails on any channel also spends one of the broadcast channel's numbers, so the
next heartbeat tells every node at once, as before the routing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from server.adapters.cluster import codec, redis_pool
from server.adapters.cluster.hub_writer import OrderedWriter
from server.adapters.cluster.order import SeqGate
from server.adapters.cluster.routes import EVERYONE, route
from server.adapters.cluster.subscriptions import Subscribing, Subscriptions
from server.chat.kernel.events import Event, MessageCreated, NewsMissed, Typing
from server.chat.kernel.hub import MemoryHub
from server.chat.kernel.periodic import cancel_until_done

log = logging.getLogger("parley.cluster")
RETRY = 1.0  # seconds between attempts to subscribe again
HEARTBEAT = 1.0  # seconds between a node's heartbeats on the channel
SILENT_AFTER = 3.0  # seconds without hearing its own heartbeat after which the channel is lost
PUBLISH_TIMEOUT = 0.5  # seconds a publish may take before the channel counts as down
CONNECT_TIMEOUT = 2.0  # seconds to open a connection or subscribe
STARTUP_WAIT = 30.0  # seconds a starting node keeps trying to subscribe before it gives up
MARGIN = 5.0  # seconds read back before the moment the channel was last known whole
UNSENT = 10_000  # events kept while the channel is down, the oldest dropped past it
FLUSH_BATCH = 100  # events per message when they go out once it is back
SETTLE = 5.0  # seconds after the channel is back when kept news goes out, every node back or not
TROUBLE = (redis.exceptions.RedisError, OSError, TimeoutError)


def shown(url: str) -> str:
    """``url`` fit for a log: its password (``redis://:secret@host``) masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class ChannelLost(Exception):
    """Nothing heard on the channel for too long: the broker died or hangs."""


class BrokerUnreachable(Exception):
    """A starting node could not subscribe within ``startup_wait``: it must not serve unheard."""


class RedisHub(Subscribing, MemoryHub):
    def __init__(
        self,
        url: str,
        channel: str,
        node: str | None = None,
        heartbeat: float = HEARTBEAT,
        silent_after: float = SILENT_AFTER,
        margin: float = MARGIN,
        startup_wait: float = STARTUP_WAIT,
    ) -> None:
        super().__init__()
        self.startup_wait = startup_wait
        self.url = url
        self.prefix = channel
        self.channel = f"{channel}:{EVERYONE}"
        self.node = node or uuid.uuid4().hex
        self.heartbeat = heartbeat
        self.silent_after = silent_after
        self.margin = margin
        self.gate = SeqGate(self._to_sinks, fill=self._fill)
        self._redis: redis.asyncio.Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._numbers: dict[str, int] = {}  # this node's messages on each channel (by key)
        self._heard: dict[str, dict[str, int]] = {}  # per channel key, the last number of each node
        self._in_step_at: dict[tuple[str, str], datetime] = {}  # (key, node) last heard with no jump
        self.subscriptions = Subscriptions()
        self._pubsub: Any = None  # the one subscriber connection, while it is up
        self._asking = asyncio.Event()  # new keys to subscribe to
        self._join_asked: dict[int, datetime] = {}  # topics to read back once subscribed: since when
        self.received = 0  # messages read from every channel (bench/hub_routing.py counts them)
        self.routed = 0  # of those, read from a topic's or a user's channel
        self._down = False  # a publish failed: no more tries until a heartbeat goes through
        self._heard_self_at = time.monotonic()
        self._whole_at = datetime.now(UTC)  # the channel was whole (nothing missed) up to here
        self._missed_since: datetime | None = None  # news missed from here on: read it back
        self._refilling = asyncio.Lock()
        self._unsent: deque[Event] = deque(maxlen=UNSENT)  # news kept while the channel was down
        self._flushing: asyncio.Task[None] | None = None
        self._heard_at: dict[str, float] = {}  # when each node was last heard (monotonic)
        self._awaited = 0  # nodes heard just before the channel went down: to hear the kept news
        self._up_at = 0.0  # when publishing went through again after the channel was down
        self._writer = OrderedWriter(self.channel, self._name, PUBLISH_TIMEOUT)

    async def start(self) -> None:
        """Subscribe before serving, so nothing published after start-up is missed."""
        self._redis = redis_pool.client(
            self.url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            retry=Retry(NoBackoff(), 0),  # a lost connection must show here, not be hidden by retries
        )
        pubsub = await self._first_subscribe()
        self._heard_self_at = time.monotonic()
        self._tasks = [
            asyncio.create_task(self._listen(pubsub), name="parley-hub-listener"),
            asyncio.create_task(self._beat(), name="parley-hub-heartbeat"),
            asyncio.create_task(self._ask(), name="parley-hub-subscriber"),
            asyncio.create_task(self._writer.run(self._redis), name="parley-hub-writer"),
        ]

    async def _first_subscribe(self) -> Any:
        """Subscribe, trying again every ``RETRY`` until ``startup_wait``: a broker started beside
        the nodes, or one slow to answer on a loaded machine, must not fail the node's start; one
        that never answers fails it with the address, not a bare timeout."""
        deadline = time.monotonic() + self.startup_wait
        while True:
            try:
                return await asyncio.wait_for(self._subscribe(), CONNECT_TIMEOUT)
            except TROUBLE as exc:
                if time.monotonic() + RETRY >= deadline:
                    raise BrokerUnreachable(
                        f"Redis at {shown(self.url)} did not answer within {self.startup_wait:g} s ({exc!r})"
                    ) from exc
                log.warning("Redis at %s did not answer (%r); trying again", shown(self.url), exc)
                await asyncio.sleep(RETRY)

    async def _subscribe(self) -> Any:
        assert self._redis is not None
        self.subscriptions.lost()  # a new connection: nothing is subscribed on it yet
        pubsub: Any = self._redis.pubsub()  # the confirmations say when a channel is heard
        try:
            keys = self.subscriptions.to_ask()
            if keys:  # before the broadcast channel: a node counted there hears these too
                await pubsub.ssubscribe(*(self._name(key) for key in keys))
            await pubsub.subscribe(self.channel)
        except BaseException:  # timed out (cancelled) or failed: its connection goes with it
            with contextlib.suppress(*TROUBLE):
                await asyncio.wait_for(pubsub.aclose(), CONNECT_TIMEOUT)
            raise
        return pubsub

    async def stop(self) -> None:
        if self._flushing is not None:
            self._tasks.append(self._flushing)
        await cancel_until_done(*self._tasks)
        await self.gate.close()
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, *events: Event) -> None:
        for event in events:
            await self.gate.put(event)
        if events:
            await self._send(events)

    async def _send(self, events: tuple[Event, ...]) -> int | None:
        """Publish ``events`` on their channels, one numbered message per channel (no events: a
        heartbeat on the broadcast channel): how many nodes were subscribed to hear the broadcast
        one, or None (and the channel down) if it did not go through. While the channel is down,
        or what it kept is still to go out, a send is not held up: its news is kept for later
        (``_keep``)."""
        if self._redis is None:
            self._number(EVERYONE)
            return None
        if events and (self._down or self._unsent):
            self._number(EVERYONE)  # the next heartbeat shows every node a jump: read back
            self._keep(events)
            return None
        groups = _grouped(events) if events else {EVERYONE: []}
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):  # no task per publish, as wait_for makes
                heard_by = await self._publish(groups)
        except TROUBLE as exc:
            self._number(EVERYONE)  # spent: the next heartbeat tells every node it missed news
            if not self._down:
                log.warning(
                    "publishing on the hub channel failed (%r); the database keeps every message", exc
                )
                now = time.monotonic()
                self._awaited = sum(1 for at in self._heard_at.values() if now - at < self.silent_after)
                await self._drop_connections()
            self._down = True
            self._keep(events)
            return None
        if self._down:
            log.warning("publishing on the hub channel works again")
            self._down = False
            self._up_at = time.monotonic()
        return heard_by

    async def _publish(self, groups: dict[str, list[Event]]) -> int:
        """One message per channel, numbered now and written by the one writer in this order:
        what the broadcast channel's PUBLISH said (the nodes subscribed), or 0 without one."""
        messages = [
            (key, codec.dumps(self.node, tuple(events), self._number(key))) for key, events in groups.items()
        ]
        return await self._writer.write(messages)

    def _number(self, key: str) -> int:
        number = self._numbers.get(key, 0) + 1
        self._numbers[key] = number
        return number

    async def _drop_connections(self) -> None:
        """Close the pool's connections: opened before the outage, each would fail once more
        after it (a publish lost, news read back for nothing) before the pool opened a new one."""
        assert self._redis is not None
        with contextlib.suppress(*TROUBLE):
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await self._redis.connection_pool.disconnect(inuse_connections=False)  # not the subscriber

    def _keep(self, events: tuple[Event, ...]) -> None:
        """Keep news that did not go out, to publish once the channel is back: edits, deletions,
        reactions, memberships, presence and the rest reach the other nodes late rather than never.
        New messages are not kept (the other nodes read them back from the database), nor typing
        (stale by then)."""
        self._unsent.extend(event for event in events if not isinstance(event, MessageCreated | Typing))

    def _flush_soon(self, heard_by: int) -> None:
        """Let what was kept go out once every node heard from before the outage is subscribed
        again (``heard_by``: the heartbeat's receivers), or ``SETTLE`` seconds after the channel
        came back at the latest (a node may have died meanwhile): published earlier, it would
        reach nobody on the nodes still subscribing."""
        if not self._unsent or (self._flushing is not None and not self._flushing.done()):
            return
        if heard_by < self._awaited and time.monotonic() - self._up_at < SETTLE:
            return
        self._flushing = asyncio.create_task(self._flush(), name="parley-hub-flush")

    async def _flush(self) -> None:
        """Publish what was kept, oldest first, a batch at a time, until it is out or the channel
        goes down again (then the next heartbeat that goes through starts over)."""
        while self._unsent and not self._down:
            batch = [self._unsent.popleft() for _ in range(min(FLUSH_BATCH, len(self._unsent)))]
            groups = _grouped(tuple(batch))
            if not groups:
                continue
            try:
                async with asyncio.timeout(PUBLISH_TIMEOUT):
                    await self._publish(groups)
            except TROUBLE:
                self._number(EVERYONE)
                self._down = True
                self._unsent.extendleft(reversed(batch))

    async def _beat(self) -> None:
        """Publish a heartbeat now and then: the other nodes (and this one) count on hearing it."""
        while True:
            await asyncio.sleep(self.heartbeat)
            heard_by = await self._send(())
            if heard_by is not None:
                self._flush_soon(heard_by)
            await self._let_go()

    async def _listen(self, pubsub: Any) -> None:
        """Read the channel for the node's life; after a lost channel, subscribe again and read
        back what was missed."""
        lost_at: float | None = None
        while True:
            try:
                if pubsub is None:
                    pubsub = await asyncio.wait_for(self._subscribe(), CONNECT_TIMEOUT)
                    self._heard_self_at = time.monotonic()
                    log.warning(
                        "subscribed to the hub channel again after %.1f s",
                        time.monotonic() - (lost_at or 0.0),
                    )
                    lost_at = None
                    self._refill_soon()
                self._pubsub = pubsub
                self._asking.set()  # what was wanted while it was down
                while True:
                    message = await pubsub.get_message(timeout=self.heartbeat)
                    if message is not None:
                        await self._on(message)
                    if time.monotonic() - self._heard_self_at > self.silent_after:
                        raise ChannelLost(f"nothing heard for {self.silent_after} s")
            except asyncio.CancelledError:
                self._pubsub = None
                if pubsub is not None:
                    await _close(pubsub)
                raise
            except (*TROUBLE, ChannelLost) as exc:
                self._pubsub = None
                self._lost()
                if lost_at is None:  # one line an outage, however many tries
                    log.warning("lost the hub channel (%r); subscribing again every %s s", exc, RETRY)
                    lost_at = time.monotonic()
                self._missed(self._whole_at)
                if pubsub is not None:
                    await _close(pubsub)
                pubsub = None
            await asyncio.sleep(RETRY)

    async def _on(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind not in ("message", "smessage", "ssubscribe"):
            return
        channel = message.get("channel", b"")
        key = (channel.decode() if isinstance(channel, bytes) else str(channel))[len(self.prefix) + 1 :]
        if kind == "ssubscribe":
            self._confirmed(key)
        elif key == EVERYONE:
            await self._received(message.get("data", b""), key)
        elif key in self.subscriptions.confirmed:  # not one let go meanwhile
            self.routed += 1
            await self._received(message.get("data", b""), key)

    async def _received(self, data: bytes, key: str = EVERYONE) -> None:
        self.received += 1
        try:
            node, number, events = codec.loads_numbered(data)
        except codec.UnknownEvent:
            log.warning("ignored an unreadable message on %s", self._name(key))
            return
        heard = self._heard.setdefault(key, {})
        last = heard.get(node)
        heard[node] = number
        now = datetime.now(UTC)
        if last is not None and number > last + 1:  # that node's messages between did not arrive
            self._missed(self._in_step_at.get((key, node), self._whole_at))
            self._refill_soon()
        self._in_step_at[key, node] = now
        if node == self.node:
            if key == EVERYONE:
                self._heard_at[node] = time.monotonic()
                self._heard_self_at = time.monotonic()
                if self._missed_since is None:
                    self._whole_at = now
            return
        if key == EVERYONE:
            self._heard_at[node] = time.monotonic()
        for event in events:
            await self.gate.put(event)

    def _hears(self, event: Event) -> bool:
        return any(key == EVERYONE or self.subscriptions.wanted(key) for key in route(event))

    def _missed(self, since: datetime) -> None:
        if self._missed_since is None or since < self._missed_since:
            self._missed_since = since

    def _refill_soon(self) -> None:
        task = asyncio.create_task(self._refill(), name="parley-hub-refill")
        self._tasks.append(task)
        task.add_done_callback(self._forget)

    async def _refill(self) -> None:
        """Tell the sinks news was missed, and read the messages since then back into the gate."""
        async with self._refilling:
            since = self._missed_since
            if since is None or self.missed is None:
                return
            self._missed_since = None
            began = datetime.now(UTC)
            try:
                await self.tell_here(NewsMissed())
                events = await self.missed.since(since - timedelta(seconds=self.margin))
            except Exception as exc:  # the database is out of reach too: try again on the next sign
                log.warning("could not read back what the hub missed (%s); trying again", exc)
                self._missed(since)
                return
            await self.gate.refill([event for event in events if self._hears(event)])
            if self._missed_since is None:
                self._whole_at = began
            log.info("read back %d messages the hub channel missed since %s", len(events), since.isoformat())

    async def _fill(self, topic: int, first: int, last: int) -> list[MessageCreated]:
        return [] if self.missed is None else await self.missed.between(topic, first, last)

    async def _to_sinks(self, event: Event) -> None:
        await self.tell_here(event)


def _grouped(events: tuple[Event, ...]) -> dict[str, list[Event]]:
    """``events`` by the key of each channel they go on, in order within each."""
    groups: dict[str, list[Event]] = {}
    for event in events:
        for key in route(event):
            groups.setdefault(key, []).append(event)
    return groups


async def _close(pubsub: Any) -> None:
    """Let go of a subscription whose broker may hang: bounded, and quiet about a dead one."""
    with contextlib.suppress(*TROUBLE):
        await asyncio.wait_for(pubsub.aclose(), CONNECT_TIMEOUT)
