"""Per-topic ``seq`` order for messages arriving from several nodes.

Each node publishes what it stored in ``seq`` order, but two nodes storing in
the same topic race on the way to a third (or to each other): seq 6 stored on
node B may reach node B's sockets before seq 5, stored a moment earlier on
node A, arrives through Redis. PROTOCOL.md section 4 wants every socket to see
a topic's messages in strictly increasing ``seq``, so every ``MessageCreated``
(local or remote) goes through this gate: the next expected seq passes at once,
a later one waits for the gap to fill, an earlier one (the second side of a
direct message, or a straggler) passes at once.

A gap that does not fill within ``patience`` seconds (a node died between its
commit and its publish, or the hub lost the news) is read from the database
(``fill``: the database is the source, the hub only the news) and delivered
before the held messages, in order; only what the database does not have
either (a deleted message) is skipped. A node that lost its hub channel hands
what it read back from the database to ``refill``, which delivers what its
sockets have not had yet and drops the rest.
The first message of a topic a node sees waits ``first_sight`` seconds for a
predecessor that may be on its way, since the node does not know the topic's
history yet; after that it knows. A topic's first message (``seq`` 1) has no predecessor to wait for.

A topic whose news this node begins to read while a socket is live in it (``opening``) holds its
messages until ``opened`` hands over what the database had meanwhile: those go out first, in
order, and the held ones after them, with nothing twice. ``opened`` also hands over the topic's
newest seq, so its first live message is no first sight (the 50 ms it waited were the p99 of a
fan-out to sockets that had just joined). A topic no longer read is ``forget``-ed:
when it is read again, its first message is a first sight again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from server.chat.kernel.events import Event, MessageCreated

log = logging.getLogger("parley.cluster")
FILL_TIMEOUT = 2.0
"""Seconds a gap's read may take: the gate holds its lock meanwhile, so every publish of this node
(every send's answer) waits on it; past this the gap is delivered over, as without a database."""
FIRST_SEQ = 1  # a topic's first message (``topics.next_seq`` counts from 0)
Deliver = Callable[[Event], Awaitable[None]]
Fill = Callable[[int, int, int], Awaitable[list[MessageCreated]]]
"""(topic, first seq, last seq) -> those messages from the database, as events (``Refill.between``)."""


class SeqGate:
    def __init__(
        self,
        deliver: Deliver,
        patience: float = 2.0,
        first_sight: float = 0.05,
        fill: Fill | None = None,
        fill_timeout: float = FILL_TIMEOUT,
    ) -> None:
        self.deliver = deliver
        self.fill = fill
        self.fill_timeout = fill_timeout
        self.patience = patience
        self.first_sight = first_sight
        self.gaps_given_up = 0
        self._next: dict[int, int] = {}
        self._held: dict[int, dict[int, list[MessageCreated]]] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._opening: set[int] = set()  # topics whose messages wait for ``opened``
        self._read_back: dict[int, set[tuple[int, object]]] = {}  # (seq, audience) ``opened`` sent

    async def put(self, event: Event) -> None:
        """Deliver ``event`` now, or once the messages before it in its topic are out."""
        if not isinstance(event, MessageCreated):
            await self.deliver(event)
            return
        async with self._lock:
            await self._put(event)

    async def _put(self, event: MessageCreated) -> None:
        topic, seq = event.topic_id, event.message.seq
        if topic in self._opening:
            self._hold(event)
            return
        expected = self._next.get(topic)
        if expected is None and seq == FIRST_SEQ:
            expected = FIRST_SEQ  # a new topic's first message (a new DM's): nothing comes before it
        if expected is None and topic not in self._held:
            self._hold(event)
            self._wait(topic, self.first_sight)
            return
        if expected is not None and seq < expected:
            sent = self._read_back.get(topic)
            if sent is not None and (seq, event.audience) in sent:
                sent.discard((seq, event.audience))  # read back already: its news came late
                return
            await self.deliver(event)  # the other side of a direct message, or a straggler
            return
        if expected is not None and seq == expected:
            await self.deliver(event)
            self._next[topic] = seq + 1
            await self._release(topic)
            return
        self._hold(event)
        if topic not in self._timers:
            self._wait(topic, self.patience)

    async def refill(self, events: list[MessageCreated]) -> None:
        """Deliver what was read back from the database (per topic in ``seq`` order): each message
        at or after its topic's next expected ``seq`` goes out, with every rendering of it, and
        what was held up to it is dropped (the same message); older ones were delivered already."""
        async with self._lock:
            by_topic: dict[int, dict[int, list[MessageCreated]]] = {}
            for event in events:
                by_topic.setdefault(event.topic_id, {}).setdefault(event.message.seq, []).append(event)
            for topic, by_seq in by_topic.items():
                await self._deliver_from(topic, by_seq)

    async def _deliver_from(self, topic: int, by_seq: dict[int, list[MessageCreated]]) -> None:
        """Deliver ``by_seq``'s messages not yet out, in order, then what is held after them."""
        expected = self._next.get(topic)
        held = self._held.get(topic, {})
        for seq in sorted(by_seq):
            if expected is not None and seq < expected:
                continue
            for event in by_seq[seq]:
                await self.deliver(event)
            expected = seq + 1
        if expected is None:
            return
        self._next[topic] = expected
        for seq in [seq for seq in held if seq < expected]:
            del held[seq]
        await self._release(topic)

    def opening(self, topic: int) -> None:
        """Hold ``topic``'s messages until ``opened`` (its news is being subscribed to)."""
        if topic not in self._next:  # already read: nothing can fall between
            self._opening.add(topic)

    async def opened(self, topic: int, events: list[MessageCreated], last_seq: int | None = None) -> None:
        """The topic is read now: deliver ``events`` (what the database had since shortly before
        the subscription, in ``seq`` order), then what was held after them, in order.

        ``last_seq``, the topic's newest seq read before ``events``, makes the next one known: its
        first live message then goes out at once instead of waiting ``first_sight`` (every message
        up to it was stored before the read, so it is among ``events`` or older than them)."""
        async with self._lock:
            if topic not in self._opening:
                return
            self._opening.discard(topic)
            by_seq: dict[int, list[MessageCreated]] = {}
            for event in events:
                if event.topic_id == topic:
                    by_seq.setdefault(event.message.seq, []).append(event)
            self._read_back[topic] = {(seq, e.audience) for seq, found in by_seq.items() for e in found}
            asyncio.get_running_loop().call_later(self.patience * 5, self._read_back.pop, topic, None)
            await self._deliver_from(topic, by_seq)
            if last_seq is not None and self._next.get(topic, 0) <= last_seq:
                await self._known_up_to(topic, last_seq)
            held = self._held.get(topic)
            if held and topic not in self._next:
                self._next[topic] = min(held)
                await self._release(topic)
            if topic in self._held and topic not in self._timers:
                self._wait(topic, self.patience)

    async def _known_up_to(self, topic: int, last_seq: int) -> None:
        """Messages up to ``last_seq`` are stored: the next is the one after it. News held of one up
        to it goes out first, in order: it was not read back (a send whose commit came long after
        its ``created_at``, before the moment read back), and a socket may not have had it with
        the topic's history either; twice is better than never."""
        held = self._held.get(topic, {})
        for seq in sorted(seq for seq in held if seq <= last_seq):
            for event in held.pop(seq):
                await self.deliver(event)
        self._next[topic] = last_seq + 1
        await self._release(topic)

    def forget(self, topic: int) -> None:
        """This node no longer reads ``topic``: what it knew of its order is stale from here on."""
        self._opening.discard(topic)
        self._read_back.pop(topic, None)
        self._next.pop(topic, None)
        self._held.pop(topic, None)
        timer = self._timers.pop(topic, None)
        if timer is not None:
            timer.cancel()

    def _hold(self, event: MessageCreated) -> None:
        self._held.setdefault(event.topic_id, {}).setdefault(event.message.seq, []).append(event)

    def _wait(self, topic: int, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._timers[topic] = loop.call_later(seconds, self._give_up_soon, topic)

    async def _release(self, topic: int) -> None:
        """Deliver the held messages that now follow in order."""
        held = self._held.get(topic, {})
        while (expected := self._next[topic]) in held:
            for event in held.pop(expected):
                await self.deliver(event)
            self._next[topic] = expected + 1
        if not held:
            self._held.pop(topic, None)
            timer = self._timers.pop(topic, None)
            if timer is not None:
                timer.cancel()

    def _give_up_soon(self, topic: int) -> None:
        self._timers.pop(topic, None)
        task = asyncio.ensure_future(self._give_up(topic))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _give_up(self, topic: int) -> None:
        """Stop waiting: read the gap from the database, then deliver what is held, in order."""
        async with self._lock:
            held = self._held.get(topic)
            if not held:
                return
            lowest = min(held)
            expected = self._next.get(topic)
            if expected is not None:
                self.gaps_given_up += 1
                found = await self._filled(topic, expected, lowest - 1)
                if found:
                    await self._deliver_from(topic, found)
                    held = self._held.get(topic)
                    if not held:
                        return
                    lowest = min(held)
                if self._next[topic] < lowest:
                    log.warning(
                        "topic %s: seq %s..%s is not in the database either; delivering on",
                        topic,
                        self._next[topic],
                        lowest - 1,
                    )
            self._next[topic] = lowest
            await self._release(topic)
            if topic in self._held and topic not in self._timers:
                self._wait(topic, self.patience)

    async def _filled(self, topic: int, first: int, last: int) -> dict[int, list[MessageCreated]]:
        """The gap's messages from the database, by seq (none without ``fill``, or if it fails)."""
        if self.fill is None:
            return {}
        try:
            async with asyncio.timeout(self.fill_timeout):  # the gate is locked: publishes wait meanwhile
                events = await self.fill(topic, first, last)
        except Exception as exc:  # the database is down or hangs too: deliver on, as without it
            log.warning("topic %s: could not read seq %s..%s from the database (%s)", topic, first, last, exc)
            return {}
        by_seq: dict[int, list[MessageCreated]] = {}
        for event in events:
            by_seq.setdefault(event.message.seq, []).append(event)
        return by_seq

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)
