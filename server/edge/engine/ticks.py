"""Deadlines of many sockets on one loop timer per tick, not one ``TimerHandle`` per socket.

Every idle socket waits for two clocks: engine.io's heartbeat (the next PING, then its PONG
deadline, ``eio_socket.LeanSocket``) and its token's expiry (``server.edge.realtime.expiry``).
As a loop timer each, they cost a ``TimerHandle`` with its bound method and arguments (about
540 B each, measured by tracemalloc in ``bench/results/tracemalloc-idle-socket.md``), a push into
the loop's heap at every connect and every ping cycle, and a cancel at every close.

``Ticks`` rounds each deadline up to the next multiple of ``TICK`` seconds and keeps, per tick,
a dict of the keys due then with their callbacks: one loop timer per tick that has anything due,
whatever the number of sockets (at 1,000 connects a second, one timer for ~50 sockets). A
deadline is never early and at most ``TICK`` late: far below engine.io's ping timeout and the
token notice. A key has at most one deadline in a ``Ticks``; ``cancel`` drops it (a tick whose
keys were all cancelled fires and finds nothing). The callbacks are plain functions called with
their key, so an entry is one dict slot: no bound method, no arguments tuple per socket.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from collections.abc import Callable
from typing import Any

TICK = 0.05
"""Seconds between the instants a deadline may fall on (it is rounded up to one of them)."""

log = logging.getLogger("parley.engine")

Callback = Callable[[Any], None]


class Ticks:
    """The deadlines of one event loop's sockets (``ticks()`` gives the running loop's)."""

    __slots__ = ("__weakref__", "_slots", "tick")

    def __init__(self, tick: float = TICK) -> None:
        self.tick = tick
        self._slots: dict[int, dict[Any, Callback]] = {}

    def __len__(self) -> int:
        """The deadlines waiting (cancelled ones included until their tick: a test's measure)."""
        return sum(len(keys) for keys in self._slots.values())

    def at(self, when: float, key: Any, callback: Callback) -> int:
        """Call ``callback(key)`` at loop time ``when`` (rounded up to a tick); the slot to cancel it by."""
        slot = math.ceil(when / self.tick)
        keys = self._slots.get(slot)
        if keys is None:
            keys = self._slots[slot] = {}
            asyncio.get_running_loop().call_at(slot * self.tick, self._fire, slot)
        keys[key] = callback
        return slot

    def cancel(self, slot: int, key: Any) -> None:
        """Forget ``key``'s deadline at ``slot`` (nothing if it fired or was cancelled already)."""
        keys = self._slots.get(slot)
        if keys is not None:
            keys.pop(key, None)

    def _fire(self, slot: int) -> None:
        keys = self._slots.pop(slot, None)
        if not keys:
            return
        for key, callback in keys.items():
            try:
                callback(key)
            except Exception:  # one socket's failure must not skip the others due at this tick
                log.exception("a deadline's callback failed")


_OF_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Ticks] = weakref.WeakKeyDictionary()


def ticks() -> Ticks:
    """The running loop's ``Ticks`` (one per loop: a test may run servers on several in turn)."""
    loop = asyncio.get_running_loop()
    found = _OF_LOOP.get(loop)
    if found is None:
        found = _OF_LOOP[loop] = Ticks()
    return found
