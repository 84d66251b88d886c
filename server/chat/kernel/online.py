"""The presence port: which users have a connection on any node.

``PresenceService`` counts its own node's sockets and the grace period; the
registry answers for the whole deployment. ``LocalRegistry`` is the one-process
implementation; ``server.adapters.cluster.redis_presence.RedisRegistry`` shares it
between nodes, each node heartbeating so that a killed node's users are
reported gone (``on_gone``) within its time to live.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

Gone = Callable[[list[int]], Awaitable[None]]


class OnlineRegistry(Protocol):
    async def start(self, on_gone: Gone) -> None:
        """Begin (heartbeats); ``on_gone`` gets users whose node died and who are nowhere else."""
        ...

    async def stop(self) -> None: ...

    async def arrive(self, user_id: int) -> bool:
        """This node has the user now; True when no node had them before (they came online)."""
        ...

    async def leave(self, user_id: int) -> bool:
        """This node no longer has the user; True when no node has them (they went offline)."""
        ...

    async def online_among(self, user_ids: Iterable[int]) -> set[int]:
        """Those of ``user_ids`` with a connection on some node: a set query, never a scan of all."""
        ...


class LocalRegistry:
    """One process: this node is the whole deployment."""

    def __init__(self) -> None:
        self._here: set[int] = set()

    async def start(self, on_gone: Gone) -> None:
        """A single process outlives nobody: ``on_gone`` is never called."""

    async def stop(self) -> None:
        self._here.clear()

    async def arrive(self, user_id: int) -> bool:
        first = user_id not in self._here
        self._here.add(user_id)
        return first

    async def leave(self, user_id: int) -> bool:
        self._here.discard(user_id)
        return True

    async def online_among(self, user_ids: Iterable[int]) -> set[int]:
        return self._here.intersection(user_ids)
