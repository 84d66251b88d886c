"""Limits that hold for the whole cluster: the ``Budgets`` port, and ``SharedLimit`` over it.

Each node counts every keyed limit in its own memory (``ratelimit.KeyedLimiter``), as a single
process does; with several nodes (Redis configured) the same take is also asked of the cluster's
budget (``server.adapters.cluster.redis_budgets``), so a user who spreads topic creations,
invites, uploads, sign-ups or failed logins over N nodes gets the limit once, not N times.

The local count is always taken first and is what stands when the cluster cannot answer (Redis
down or slow: the port answers ``None`` within a short bound): a node then never allows more than
it would alone, which errs on the side of the limit. The per-socket event rate is not here: a
socket lives on one node, so its bucket is the same whatever the number of nodes, and it stays a
local ``TokenBucket`` on the hot path of every send (no round trip per message).
"""

from __future__ import annotations

from typing import Protocol

from server.chat.kernel.ratelimit import KeyedLimiter


class Budgets(Protocol):
    """Counters shared by every node. Each call is one bounded round trip at most; ``None`` means
    the cluster could not answer (the caller keeps to its local count)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def take(self, name: str, key: str, burst: float, rate: float) -> float | None:
        """Take a token from the cluster's bucket ``name:key`` (``burst`` tokens, ``rate`` a
        second): 0 when taken, else the seconds until one is there."""
        ...

    async def give_back(self, name: str, key: str, burst: float, rate: float) -> None:
        """Return a token taken for an attempt that did not count."""
        ...

    async def socket_opened(self, user_id: int, limit: int) -> bool | None:
        """Count one more socket of the user on this node unless the cluster has ``limit``
        already (False then)."""
        ...

    async def socket_closed(self, user_id: int) -> None:
        """One socket of the user on this node ended."""
        ...


class SharedLimit:
    """A keyed limit counted here and, with ``budgets``, by the whole cluster too."""

    def __init__(self, name: str, burst: float, seconds: float, budgets: Budgets | None = None) -> None:
        self.name = name
        self.burst = burst
        self.rate = burst / seconds
        self.local = KeyedLimiter(burst, self.rate)
        self.budgets = budgets

    async def take(self, key: str) -> float:
        """0 when a token was taken for ``key``, else the seconds to wait for one."""
        if not self.local.take(key):
            return max(self.local.retry_after(key), 1e-3)
        if self.budgets is None:
            return 0.0
        wait = await self.budgets.take(self.name, key, self.burst, self.rate)
        if wait is None or wait <= 0:
            return 0.0  # taken in the cluster, or the cluster cannot tell: the local count stands
        self.local.give_back(key)
        return wait

    async def give_back(self, key: str) -> None:
        self.local.give_back(key)
        if self.budgets is not None:
            await self.budgets.give_back(self.name, key, self.burst, self.rate)


def per_hour(name: str, count: int, budgets: Budgets | None = None) -> SharedLimit:
    """A burst of ``count``, then ``count`` per hour, for the cluster when ``budgets`` is given."""
    return SharedLimit(name, count, 3600.0, budgets)
