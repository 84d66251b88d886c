"""Where a call's signals go: each seat's peer, socket, node and user, read from the database and
kept for a moment, so that the offers and candidates of a call's set-up (dozens a second) cost a
dictionary look-up each rather than a read.

A look-up that misses (a peer or a socket the snapshot does not have) reads the call's seats again
before answering, so a new participant is reached at once. A snapshot is kept ``FRESH`` seconds,
and this node forgets it at once when it changes the call's seats itself (``forget``): only a leave
made on another node can go unseen here, for at most that long, during which its peer's old socket
may still be sent a signal (it is out of the call and drops it).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

FRESH = 1.0  # seconds a snapshot of a call's seats answers
KEPT = 1000  # snapshots past which the stale ones are dropped


@dataclass(frozen=True, slots=True)
class End:
    """One seat as a signal needs it."""

    peer: str
    sid: str
    node: str
    user_id: int


Read = Callable[[int], Awaitable[Sequence[End]]]


class Routes:
    def __init__(self, read: Read) -> None:
        self.read = read
        self._calls: dict[int, tuple[float, dict[str, End], dict[str, End]]] = {}

    async def ends(self, call_id: int, sid: str, to: str) -> tuple[End | None, End | None]:
        """The seat taken through ``sid`` and the one named ``to`` (None: not in the call)."""
        now = time.monotonic()
        known = self._calls.get(call_id)
        if known is not None and now - known[0] < FRESH:
            sender, addressee = known[2].get(sid), known[1].get(to)
            if sender is not None and addressee is not None:
                return sender, addressee
        seats = await self.read(call_id)
        by_peer = {end.peer: end for end in seats}
        by_sid = {end.sid: end for end in seats}
        if len(self._calls) >= KEPT:
            self._calls = {c: k for c, k in self._calls.items() if now - k[0] < FRESH}
        self._calls[call_id] = (now, by_peer, by_sid)
        return by_sid.get(sid), by_peer.get(to)

    def forget(self, call_id: int) -> None:
        """This node changed the call's seats: the next signal reads them again."""
        self._calls.pop(call_id, None)
