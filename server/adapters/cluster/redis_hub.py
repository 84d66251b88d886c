"""The hub across nodes: every event reaches the sinks of every node, through Redis pub/sub.

A node delivers its own events to its own sinks at once and publishes them,
in one message per commit, on the channel; every other node reads them and
delivers them to its sinks. So a membership change moves the member's sockets
on every node, a logout closes them on every node, the membership and token
caches stay exact everywhere, and each transport's sink only ever touches its
own node's connections. ``MessageCreated`` goes through a ``SeqGate`` on
every node, local or remote, so each socket sees a topic in ``seq`` order.

Redis pub/sub keeps the order of one publisher's messages; a node that is
cut from Redis misses what is published meanwhile (its clients then get the
messages from their backlog on reconnect, as after any outage).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import redis.asyncio
import redis.exceptions

from server.adapters.cluster import codec
from server.adapters.cluster.order import SeqGate
from server.chat.events import Event
from server.chat.hub import Hub

log = logging.getLogger("parley.cluster")
RETRY = 1.0  # seconds between attempts to subscribe again


class RedisHub(Hub):
    def __init__(self, url: str, channel: str, node: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.channel = f"{channel}:hub"
        self.node = node or uuid.uuid4().hex
        self.gate = SeqGate(self._to_sinks)
        self._redis: redis.asyncio.Redis | None = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe before serving, so nothing published after start-up is missed."""
        self._redis = redis.asyncio.Redis.from_url(self.url)
        pubsub = await self._subscribe()
        self._listener = asyncio.create_task(self._listen(pubsub), name="parley-hub-listener")

    async def _subscribe(self) -> Any:
        assert self._redis is not None
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel)
        return pubsub

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self.gate.close()
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, *events: Event) -> None:
        for event in events:
            await self.gate.put(event)
        if events and self._redis is not None:
            await self._redis.publish(self.channel, codec.dumps(self.node, events))

    async def _listen(self, pubsub: Any) -> None:
        """Read the channel for the node's life; after a lost connection, subscribe again."""
        while True:
            try:
                pubsub = pubsub or await self._subscribe()
                async for message in pubsub.listen():
                    await self._received(message.get("data", b""))
            except (redis.exceptions.ConnectionError, OSError) as exc:
                log.warning("lost the hub channel (%s); subscribing again in %s s", exc, RETRY)
            finally:
                if pubsub is not None:
                    await pubsub.aclose()
                pubsub = None
            await asyncio.sleep(RETRY)

    async def _received(self, data: bytes) -> None:
        try:
            node, events = codec.loads(data)
        except codec.UnknownEvent:
            log.warning("ignored an unreadable message on %s", self.channel)
            return
        if node == self.node:
            return
        for event in events:
            await self.gate.put(event)

    async def _to_sinks(self, event: Event) -> None:
        await super().publish(event)
