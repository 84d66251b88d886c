"""Each engine.io socket's outgoing queue: ours, counting the bytes it holds, watched past its bound.

engine.io gives every socket the queue its server's ``create_queue`` makes (an ``asyncio.Queue``
by default) and uses ``put``/``put_nowait``, ``get``/``get_nowait``, ``task_done``, ``join`` and
``empty`` of it. ``ParleyEngine.create_queue`` makes an ``OutgoingQueue`` instead, which does the
same and also keeps, in O(1) per put and per get:

- ``bytes``: the memory its packets hold (a text packet what its string occupies,
  ``sys.getsizeof``: up to 4 bytes per character; binary its length). The slow-consumer bound
  (``outgoing.py``) reads it; nothing sums a queue any more.
- ``idle_reader``: the socket's writer (or long-poll) waits on it, empty, or (a lean WebSocket
  session, whose writer runs only while packets wait) no writer runs and it is empty: a packet
  put now would be the next one sent, which is when the fan-out may write the frame itself
  (``direct.py``). ``wake`` starts such a session's writer when a packet must wait.
- ``drained_at``: loop time the transport last took packets (``LeanSocket.poll`` sets it).
- ``carrier``: a WebSocket's connection while its handler runs (``direct.DirectWebSocket``), whose
  transport buffers what was written and not yet taken by the kernel: what is held for the client
  is the queue's bytes and that buffer, and the carrier tells whether the transport stalled.

Past ``watch.limit`` bytes held (the queue's and its carrier's buffer) a put tells its ``watch``
(``outgoing.OutgoingGuard``), which decides, at once or at a deadline of this socket's own, whether
the client stopped reading: no sweep over every socket. No CPython internal of ``asyncio.Queue`` is
read anywhere.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable
from typing import Protocol

from engineio.packet import Packet


class Carrier(Protocol):
    """The transport a WebSocket session's frames are written to (``direct.DirectWebSocket``)."""

    def buffered(self) -> int:
        """Bytes written and not yet taken by the kernel (and frames held for the end of the turn)."""

    def stalled(self) -> bool:
        """Whether the transport is past its high-water mark: the kernel takes nothing more for now."""

    def abort(self) -> None:
        """End the connection now, dropping what its transport still buffers."""


class QueueWatch(Protocol):
    limit: int

    def past_limit(self, queue: OutgoingQueue) -> None:
        """``queue`` holds more than ``limit`` bytes after a put (called on every such put)."""


def held(packet: Packet | None) -> int:
    """Memory a queued packet holds (engine.io puts None on the queue when a socket closes)."""
    if packet is None:
        return 0
    data = packet.data
    if isinstance(data, str):
        return sys.getsizeof(data)
    return len(data) if isinstance(data, bytes) else 0


NO_ITEMS: deque[Packet | None] = deque()
"""Every empty queue's items: one deque for all, which nothing appends to (``put_nowait``, the only
writer, gives the queue a deque of its own first)."""


class OutgoingQueue:
    __slots__ = (
        "_finished",
        "_getters",
        "_items",
        "_unfinished",
        "bytes",
        "carrier",
        "deadline",
        "drained_at",
        "idle_reader",
        "limit",
        "sid",
        "wake",
        "watch",
    )

    def __init__(self, watch: QueueWatch | None = None) -> None:
        # ``NO_ITEMS`` (shared, never appended to) until a packet must wait, and again once none
        # does: a deque's first block is 760 bytes, and an idle socket's queue is empty for good.
        self._items: deque[Packet | None] = NO_ITEMS
        # A list, not a deque: it holds one waiting reader at most but for an upgrade's two, and an
        # empty deque costs 760 bytes per socket (its first block), an empty list 56.
        self._getters: list[asyncio.Future[None]] = []
        self._unfinished = 0  # put and not yet task_done (``join`` waits for 0)
        self._finished: asyncio.Event | None = None  # made by the first ``join``
        self.bytes = 0
        self.idle_reader = False
        self.drained_at = 0.0
        self.watch = watch
        self.limit = watch.limit if watch is not None else sys.maxsize
        self.sid = ""  # the engine.io session's, set when it connects (``eio_socket.adopt``)
        self.deadline: asyncio.TimerHandle | None = None  # the watch's, while past the limit
        self.wake: Callable[[], None] | None = None  # called on a put that no waiting reader takes
        self.carrier: Carrier | None = None  # a WebSocket's transport while its handler runs

    def __len__(self) -> int:
        return len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def held(self) -> int:
        """Bytes held for the client: the queue's, and what its WebSocket transport still buffers."""
        carrier = self.carrier
        return self.bytes if carrier is None else self.bytes + carrier.buffered()

    def waiting(self) -> list[Packet | None]:
        """The packets queued now, oldest first (a copy)."""
        return list(self._items)

    def put_nowait(self, item: Packet | None) -> None:
        items = self._items
        if items is NO_ITEMS:
            items = self._items = deque()
        items.append(item)
        self._unfinished += 1
        self.idle_reader = False
        if item is not None:
            self.bytes += held(item)
            watch = self.watch
            if watch is not None and (
                self.bytes > self.limit or (self.carrier is not None and self.held() > self.limit)
            ):
                watch.past_limit(self)
        getters = self._getters
        while getters:
            getter = getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                return
        if self.wake is not None:
            self.wake()

    async def put(self, item: Packet | None) -> None:
        """Never waits: the bound is enforced by closing the socket (``QueueWatch``), not by blocking."""
        self.put_nowait(item)

    def get_nowait(self) -> Packet | None:
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.popleft()
        if item is not None:
            self.bytes -= held(item)
        if not self._items:
            self._items = NO_ITEMS  # the block goes with the last packet
            if self._getters:  # another reader waits (rare: an upgrade's two)
                self.idle_reader = True
        return item

    async def get(self) -> Packet | None:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            self.idle_reader = True
            try:
                await getter
            except BaseException:
                getter.cancel()
                if getter in self._getters:
                    self._getters.remove(getter)
                self.idle_reader = not self._items and bool(self._getters)
                if self._items and not getter.cancelled():  # woken, then cancelled: pass it on
                    self._wake_next()
                raise
            self.idle_reader = not self._items and bool(self._getters)
        return self.get_nowait()

    def _wake_next(self) -> None:
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                return

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._finished is not None:
            self._finished.set()

    async def join(self) -> None:
        """Wait until every packet put has been taken and marked done (engine.io's ``close(wait=True)``)."""
        while self._unfinished:
            if self._finished is None or self._finished.is_set():
                self._finished = asyncio.Event()
            await self._finished.wait()
