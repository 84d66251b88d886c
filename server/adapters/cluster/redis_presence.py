"""The presence registry in Redis: who is connected on any node, and nodes that died.

Each node keeps the ids of its users in a set (``{channel}:presence:{node}``)
and its heartbeat in a sorted set of nodes (score: the time of its last beat,
every ``ttl / 3`` seconds). A node whose beat is older than ``ttl`` is dead:
its set no longer counts, and the first live node to notice takes it over
(``SET NX`` on a reaping key), removes it and reports those of its users who
are on no other node to ``on_gone``, so their partners see them go offline
within ``ttl`` (plus one beat) of the crash. All times are Redis's own
(``TIME``), so the nodes' clocks need not agree.

Redis may die, restart empty or hang. Presence must not take the chat down with it, nor
leave a user online forever: every call is bounded (``TIMEOUT``); while Redis fails,
``arrive`` and ``leave`` answer from this node's own knowledge (``_here``, the users it
has) and ``online_among`` from it too; and every heartbeat writes the node's set anew
from ``_here`` in one transaction, so what a failed call or an emptied Redis lost is
true again within a beat of Redis answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable
from typing import Any

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from server.adapters.cluster import redis_pool
from server.adapters.cluster.lua_args import json_strings
from server.chat.kernel.batching import Batched
from server.chat.kernel.online import Gone
from server.chat.kernel.periodic import cancel_until_done

log = logging.getLogger("parley.cluster")
TIMEOUT = 1.0  # seconds a presence call may wait on Redis
# Past this many ids, ``online_among`` is one script: it finds the live nodes itself (Redis's clock,
# the heartbeats' set), then answers from whichever is smaller: the ids asked (each node's set asked
# with SMISMEMBER, in chunks) or the live nodes' users (their union, which the caller intersects).
# Either way one round trip and one string back: 10,000 ids as arguments and 10,000 flags back cost
# redis-py about 40 ms of CPU to pack and parse, per node; the three round trips before (TIME, the
# live nodes, the question) and 10,000 SISMEMBER calls were most of a large topic's presence
# (``bench.server_presence --redis``).
MANY = 256
CHUNK = 4000  # ids per SMISMEMBER in the script: Lua's unpack takes at most ~8,000 values
AMONG = """
local now = redis.call('TIME')
local since = tonumber(now[1]) + tonumber(now[2]) / 1000000 - tonumber(ARGV[1])
local sets, users = {}, 0
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], since, '+inf')) do
  sets[#sets + 1] = ARGV[2] .. ':' .. node
  users = users + redis.call('SCARD', sets[#sets])
end
if #sets == 0 then return '' end
if users <= tonumber(ARGV[5]) then
  return table.concat(redis.call('SUNION', unpack(sets)), ',')
end
local chunk = tonumber(ARGV[4])
local ids = {}
for id in string.gmatch(ARGV[3], '[^,]+') do ids[#ids + 1] = id end
local found, seen = {}, {}
for _, users_of in ipairs(sets) do
  for first = 1, #ids, chunk do
    local flags = redis.call('SMISMEMBER', users_of, unpack(ids, first, math.min(first + chunk - 1, #ids)))
    for i = 1, #flags do
      local id = ids[first + i - 1]
      if flags[i] == 1 and not seen[id] then
        seen[id] = true
        found[#found + 1] = id
      end
    end
  end
end
return table.concat(found, ',')
"""
# Users' sockets arrive on (ARGV[4] = 1) or their last one leaves (0) this node (ARGV[3]): ARGV[5] is
# their ids, comma-separated. Their ids join (or leave) the node's set, and the answer is a flag
# per id, in order: 1 when the user has a socket on another live node, 0 when on none. One round
# trip for every arrival gathered meanwhile (a connect storm's), and atomic: of two nodes a user
# arrives on at once, exactly one sees no other (it tells the partners), and of two it leaves at
# once, exactly one sees none left. As four commands per user before (TIME, the live nodes,
# SMISMEMBER, SADD), two nodes could each miss the other.
MOVE = """
local now = redis.call('TIME')
local since = tonumber(now[1]) + tonumber(now[2]) / 1000000 - tonumber(ARGV[1])
local ids = {}
for id in string.gmatch(ARGV[5], '[^,]+') do ids[#ids + 1] = id end
if ARGV[4] == '1' then
  redis.call('SADD', ARGV[2] .. ':' .. ARGV[3], unpack(ids))
else
  redis.call('SREM', ARGV[2] .. ':' .. ARGV[3], unpack(ids))
end
local others = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], since, '+inf')) do
  if node ~= ARGV[3] then others[#others + 1] = ARGV[2] .. ':' .. node end
end
local flags = {}
for i, id in ipairs(ids) do
  flags[i] = '0'
  for _, users_of in ipairs(others) do
    if redis.call('SISMEMBER', users_of, id) == 1 then
      flags[i] = '1'
      break
    end
  end
end
return table.concat(flags)
"""
# The node's heartbeat (KEYS[1], the nodes' beats: ARGV[1] the node, on Redis's clock) and its set
# (KEYS[2]) written anew from ARGV[2], its users' ids as a JSON array of strings, in one script
# (atomic, as the transaction before). One argument rather than one per user: redis-py packed
# 16,666 ids as arguments in 18 ms of the node's CPU every beat (a worker's share of 50,000
# sockets), 2.6 ms as one; Redis's cjson reads the array in C (Redis's own time 5.4 -> 7.7 ms;
# strings, as Lua numbers cost it 13 ms to turn back into arguments).
BEAT = """
local now = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(now[1]) + tonumber(now[2]) / 1000000, ARGV[1])
redis.call('DEL', KEYS[2])
local ids, chunk = cjson.decode(ARGV[2]), tonumber(ARGV[3])
for first = 1, #ids, chunk do
  redis.call('SADD', KEYS[2], unpack(ids, first, math.min(first + chunk - 1, #ids)))
end
return 1
"""
ARRIVALS = 1000  # arrivals a script at most (Lua's unpack takes ~8,000 values)
TROUBLE = (redis.exceptions.RedisError, OSError, TimeoutError)


class RedisRegistry:
    def __init__(self, url: str, channel: str, ttl: float = 15.0, node: str | None = None) -> None:
        self.url = url
        self.ttl = ttl
        self.node = node or uuid.uuid4().hex
        self._prefix = f"{channel}:presence"
        self._nodes = f"{self._prefix}:nodes"
        self._redis: Any = None
        self._beating: asyncio.Task[None] | None = None
        self._on_gone: Gone | None = None
        self._here: set[int] = set()  # the users this node has: the truth its set is written from
        self._down = False  # a call failed: answer from ``_here`` until a heartbeat goes through
        self._among_many: Any = None  # the script that answers for many ids (``MANY``)
        self._move: Any = None  # the script of arrivals or a departure (``MOVE``)
        self._write_beat: Any = None  # the heartbeat's script (``BEAT``)
        # Arrivals asked for at the same moment share one script: each gets whether it is elsewhere.
        self._arrivals: Batched[int, bool] = Batched(self._arrived, lambda: False, ARRIVALS)

    def _users_of(self, node: str) -> str:
        return f"{self._prefix}:{node}"

    async def start(self, on_gone: Gone) -> None:
        self._on_gone = on_gone
        self._redis = redis_pool.client(
            self.url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
        self._among_many = self._redis.register_script(AMONG)  # EVALSHA, loaded again if Redis forgot it
        self._move = self._redis.register_script(MOVE)
        self._write_beat = self._redis.register_script(BEAT)
        try:
            await self._beat()
        except TROUBLE as exc:  # a broker that hangs at start is an outage like any later one
            self._failed(exc)
        self._beating = asyncio.create_task(self._keep_beating(), name="parley-presence-heartbeat")

    async def stop(self) -> None:
        """Leave cleanly: this node's users no longer count (they reconnect elsewhere)."""
        await cancel_until_done(self._beating)  # a cancellation lost in a call to Redis is sent again
        if self._redis is not None:
            with contextlib.suppress(redis.exceptions.RedisError, OSError):
                await self._redis.delete(self._users_of(self.node))
                await self._redis.zrem(self._nodes, self.node)
            await self._redis.aclose()

    async def arrive(self, user_id: int) -> bool:
        self._here.add(user_id)
        if self._down:
            return True  # as far as this node can tell
        try:
            return not await self._arrivals.get(user_id)
        except TROUBLE as exc:
            self._failed(exc)
            return True

    async def leave(self, user_id: int) -> bool:
        self._here.discard(user_id)
        if self._down:
            return True
        try:
            return not (await self._moved([user_id], arrived=False))[user_id]
        except TROUBLE as exc:
            self._failed(exc)
            return True

    async def online_among(self, user_ids: Iterable[int]) -> set[int]:
        ids = list(user_ids)
        if not ids:
            return set()
        if not self._down:
            try:
                if len(ids) > MANY:  # one round trip: the script reads the live nodes itself
                    return await self._among_live(ids)
                return await self._among(ids, await self._live_nodes())
            except TROUBLE as exc:
                self._failed(exc)
        return self._here.intersection(ids)

    def _failed(self, exc: BaseException) -> None:
        if not self._down:
            log.warning("presence in Redis failed (%r); answering from this node until it is back", exc)
        self._down = True

    async def _arrived(self, user_ids: list[int]) -> dict[int, bool]:
        return await self._moved(user_ids, arrived=True)

    async def _moved(self, user_ids: list[int], arrived: bool) -> dict[int, bool]:
        """Add the users to this node's set (or remove them); for each, whether another live node
        has them."""
        args = [self.ttl, self._prefix, self.node, 1 if arrived else 0, ",".join(map(str, user_ids))]
        flags: bytes = await self._move(keys=[self._nodes], args=args)
        return {user_id: flags[i : i + 1] == b"1" for i, user_id in enumerate(user_ids)}

    async def _among_live(self, ids: list[int]) -> set[int]:
        """Which of many ids have a socket on a live node, in one script (``AMONG``)."""
        args = [self.ttl, self._prefix, ",".join(map(str, ids)), CHUNK, len(ids)]
        online: bytes = await self._among_many(keys=[self._nodes], args=args)
        # the union of the live nodes' users when it was the smaller: only the ids asked are answered
        return {int(user) for user in online.split(b",")}.intersection(ids) if online else set()

    async def _among(self, ids: list[int], nodes: list[str]) -> set[int]:
        if not nodes:
            return set()
        pipe = self._redis.pipeline(transaction=False)
        for node in nodes:
            pipe.smismember(self._users_of(node), ids)
        found: set[int] = set()
        for flags in await pipe.execute():
            found.update(user for user, present in zip(ids, flags, strict=True) if present)
        return found

    async def _now(self) -> float:
        seconds, micros = await self._redis.time()
        return float(seconds) + float(micros) / 1e6

    async def live_nodes(self) -> list[str]:
        """The nodes whose heartbeat is younger than ``ttl`` (this one included once it beat):
        the nodes a question to all of them waits for (``redis_gather``). Raises on Redis's
        trouble (``TROUBLE``)."""
        return await self._live_nodes()

    async def _live_nodes(self) -> list[str]:
        since = await self._now() - self.ttl
        return [node.decode() for node in await self._redis.zrangebyscore(self._nodes, since, "+inf")]

    async def _beat(self) -> None:
        """The node's heartbeat, and its set written anew from ``_here`` (one script, ``BEAT``)."""
        ids = json_strings(map(str, self._here))
        await self._write_beat(keys=[self._nodes, self._users_of(self.node)], args=[self.node, ids, CHUNK])
        if self._down:
            log.warning("presence in Redis works again")
        self._down = False

    async def _keep_beating(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self._beat()
                await self._reap()
            except TROUBLE as exc:
                self._failed(exc)

    async def _reap(self) -> None:
        """Take over the nodes that stopped beating: their users, if nowhere else, are gone."""
        dead = await self._redis.zrangebyscore(self._nodes, "-inf", f"({await self._now() - self.ttl}")
        for raw in dead:
            node = raw.decode()
            if not await self._redis.set(
                f"{self._prefix}:reaping:{node}", self.node, nx=True, ex=int(self.ttl) + 1
            ):
                continue  # another node is on it
            users = [int(user) for user in await self._redis.smembers(self._users_of(node))]
            await self._redis.delete(self._users_of(node))
            await self._redis.zrem(self._nodes, node)
            gone = set(users) - await self.online_among(users)
            log.warning("node %s stopped beating; %d of its users are offline", node, len(gone))
            if gone and self._on_gone is not None:
                await self._on_gone(sorted(gone))
