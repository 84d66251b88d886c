"""The cluster's budgets in Redis (``server.chat.kernel.budgets.Budgets``): token buckets and socket counts.

A limit's bucket is a hash (``{channel}:budget:{name}:{key}``: tokens, stamp) that one Lua script
refills and takes from atomically, on Redis's own clock (``TIME``), and lets expire once it would
be full again: one round trip per check (``EVALSHA``; redis-py's ``Script`` loads it once, and
again after a Redis restart answers ``NOSCRIPT``).

A user's sockets are counted per node: each node keeps a hash (``{channel}:sockets:{node}``, user
id -> its sockets there) and beats in a sorted set of nodes (score: Redis's time of its last
beat). A socket is let in when the sum over the live nodes is under the limit, checked and
counted in one script (shared by the sockets opening at the same moment); a node whose beat is
older than ``ttl`` no longer counts (a killed node's sockets are forgotten within ``ttl``), and its
hash expires.

Redis may die, restart empty or hang: every call is bounded (``TIMEOUT``, short: a sign-up or an
upload waits that long at most), and a failure answers ``None`` (the node keeps to its local
limits, which never allow more than one node would alone) and skips Redis until a heartbeat goes
through again. Each beat writes the node's socket counts anew from what it has (``_here``), so what
a failed call or an emptied Redis lost is true again within a beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from typing import Any

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from server.adapters.cluster import redis_pool
from server.adapters.cluster.lua_args import json_strings
from server.chat.kernel.batching import Batched
from server.chat.kernel.periodic import cancel_until_done

log = logging.getLogger("parley.cluster")
TIMEOUT = 0.25  # seconds a check may wait on Redis before the local limit stands alone
TROUBLE = (redis.exceptions.RedisError, OSError, TimeoutError)

# KEYS[1] the bucket; ARGV burst, rate (tokens a second), cost (1 takes, -1 gives back).
# Returns the seconds to wait, as a string (a Lua number would come back truncated).
BUCKET = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
local burst, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local held = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(held[1]) or burst
local stamp = tonumber(held[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if cost > 0 and tokens < cost then
  wait = (cost - tokens) / rate
else
  tokens = math.min(burst, tokens - cost)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""

# KEYS[1] the nodes' beats, KEYS[2] this node's counts; ARGV ttl, key prefix, node, and the sockets
# opening: "user:limit" entries, comma-separated, in the order they asked (a user may come twice).
# (The other nodes' hashes are named from the beats: fine on one Redis, not on a Redis Cluster.)
# Returns a flag per entry, in order: 1 (counted) or 0 (the live nodes hold ``limit`` sockets of
# the user already). One round trip for every socket opening at that moment (a connect storm's).
SOCKETS = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
local others = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')) do
  if node ~= ARGV[3] then others[#others + 1] = ARGV[2] .. node end
end
local flags, counted = {}, false
for entry in string.gmatch(ARGV[4], '[^,]+') do
  local user, limit = string.match(entry, '(%d+):(%d+)')
  local total = tonumber(redis.call('HGET', KEYS[2], user)) or 0
  for _, counts in ipairs(others) do
    total = total + (tonumber(redis.call('HGET', counts, user)) or 0)
  end
  if total >= tonumber(limit) then
    flags[#flags + 1] = '0'
  else
    redis.call('HINCRBY', KEYS[2], user, 1)
    counted = true
    flags[#flags + 1] = '1'
  end
end
if counted then
  redis.call('EXPIRE', KEYS[2], math.ceil(2 * tonumber(ARGV[1])) + 1)
end
return table.concat(flags)
"""
OPENINGS = 1000  # sockets a script counts at most
# The node's heartbeat (KEYS[1], the nodes' beats: ARGV[1] the node, on Redis's clock; beats older
# than ARGV[2] seconds dropped) and its counts (KEYS[2]) written anew from ARGV[3], a JSON array of
# strings (user, count, user, count...), expiring in ARGV[4] seconds: one script, atomic as the
# transaction before. The counts as one argument, not two per user: redis-py packed 16,666 users'
# in 41 ms of the node's CPU every beat (most of an idle worker's CPU at 50,000 sockets), 6 ms as
# one; Redis's own time went from 10 to 13 ms (``redis_presence.BEAT``).
BEAT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. tostring(now - tonumber(ARGV[2])))
redis.call('DEL', KEYS[2])
local fields = cjson.decode(ARGV[3])
for first = 1, #fields, 4000 do
  redis.call('HSET', KEYS[2], unpack(fields, first, math.min(first + 3999, #fields)))
end
if #fields > 0 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return 1
"""


class RedisBudgets:
    def __init__(
        self, url: str, channel: str, ttl: float = 15.0, node: str | None = None, timeout: float = TIMEOUT
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.timeout = timeout  # what a check may wait on Redis, a free connection included
        self.node = node or uuid.uuid4().hex
        self._prefix = f"{channel}:budget"
        self._sockets = f"{channel}:sockets:"
        self._nodes = f"{channel}:sockets-nodes"
        self._redis: Any = None
        self._bucket: Any = None
        self._socket: Any = None
        self._write_beat: Any = None  # the heartbeat's script (``BEAT``)
        # Sockets opening at the same moment share one script; each call is its own key (a serial
        # number first), as one user's sockets are each counted.
        self._openings: Batched[tuple[int, int, int], bool] = Batched(self._count, lambda: False, OPENINGS)
        self._serial = itertools.count()
        self._here: dict[int, int] = {}  # user id -> sockets counted on this node: what a beat writes
        # A call failed (or not started yet, as in a command): local limits only until a beat goes through.
        self._down = True
        self._beating: asyncio.Task[None] | None = None

    @property
    def _mine(self) -> str:
        return self._sockets + self.node

    async def start(self) -> None:
        self._redis = redis_pool.client(
            self.url,
            wait=self.timeout,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._bucket = self._redis.register_script(BUCKET)
        self._write_beat = self._redis.register_script(BEAT)
        self._socket = self._redis.register_script(SOCKETS)
        try:
            await self._beat()
        except TROUBLE as exc:
            log.warning("limits in Redis failed (%r); each node keeps to its own until it is back", exc)
        self._beating = asyncio.create_task(self._keep_beating(), name="parley-budgets-heartbeat")

    async def stop(self) -> None:
        """Leave cleanly: this node's sockets no longer count."""
        await cancel_until_done(self._beating)  # a cancellation lost in a call to Redis is sent again
        if self._redis is not None:
            with contextlib.suppress(*TROUBLE):
                await self._redis.delete(self._mine)
                await self._redis.zrem(self._nodes, self.node)
            await self._redis.aclose()

    async def take(self, name: str, key: str, burst: float, rate: float) -> float | None:
        return await self._run_bucket(name, key, burst, rate, 1)

    async def give_back(self, name: str, key: str, burst: float, rate: float) -> None:
        await self._run_bucket(name, key, burst, rate, -1)

    async def socket_opened(self, user_id: int, limit: int) -> bool | None:
        if not self._down:
            try:
                opening = (next(self._serial), user_id, limit)
                counted = await asyncio.wait_for(self._openings.get(opening), self.timeout)
            except TROUBLE as exc:
                self._failed(exc)
            else:
                if not counted:
                    return False
                self._here[user_id] = self._here.get(user_id, 0) + 1
                return True
        self._here[user_id] = self._here.get(user_id, 0) + 1  # the next beat writes it
        return None

    async def _count(self, openings: list[tuple[int, int, int]]) -> dict[tuple[int, int, int], bool]:
        entries = ",".join(f"{user_id}:{limit}" for _, user_id, limit in openings)
        args = [self.ttl, self._sockets, self.node, entries]
        flags: bytes = await self._socket(keys=[self._nodes, self._mine], args=args)
        return {opening: flags[i : i + 1] == b"1" for i, opening in enumerate(openings)}

    async def socket_closed(self, user_id: int) -> None:
        count = self._here.get(user_id, 0) - 1
        if count > 0:
            self._here[user_id] = count
        else:
            self._here.pop(user_id, None)
        if self._down:
            return  # the next beat writes the count anew
        try:
            await asyncio.wait_for(self._redis.hincrby(self._mine, user_id, -1), self.timeout)
        except TROUBLE as exc:
            self._failed(exc)

    async def _run_bucket(self, name: str, key: str, burst: float, rate: float, cost: int) -> float | None:
        if self._down:
            return None
        try:
            bucket = f"{self._prefix}:{name}:{key}"
            wait = await asyncio.wait_for(self._bucket(keys=[bucket], args=[burst, rate, cost]), self.timeout)
        except TROUBLE as exc:
            self._failed(exc)
            return None
        return float(wait)

    def _failed(self, exc: BaseException) -> None:
        if not self._down:
            log.warning("limits in Redis failed (%r); each node keeps to its own until it is back", exc)
        self._down = True

    async def _beat(self) -> None:
        """The node's heartbeat, and its socket counts written anew from ``_here`` (one script, ``BEAT``)."""
        counts = json_strings(f'{user}","{count}' for user, count in self._here.items())
        args = [self.node, 2 * self.ttl, counts, int(2 * self.ttl) + 1]
        await asyncio.wait_for(self._write_beat(keys=[self._nodes, self._mine], args=args), self.timeout * 4)
        if self._down and self._beating is not None:
            log.warning("limits in Redis work again")
        self._down = False

    async def _keep_beating(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self._beat()
            except TROUBLE as exc:
                self._failed(exc)
