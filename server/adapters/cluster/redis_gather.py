"""Asking every node over Redis (``server.chat.kernel.gather``): a question out, the answers back.

Every node subscribes, on a connection of its own, to the questions (``{channel}:ask``) and to
the answers meant for it (``{channel}:answers:{node}``). The hub's channel and its listener are
not touched: a published message costs nothing more for this. A question carries an id and the
asking node; every other node answers it in a task of its own (an answer may wait for
acknowledgements) and publishes the answer on the asker's channel, a node without an answerer for
it an empty one (the asker stops waiting for it). The asker answers itself in the process, and
waits for the nodes the presence registry knows as live (their heartbeats,
``RedisRegistry.live_nodes``: the node names are the registry's) until each has answered or the
deadline has passed, then returns what it gathered. A node that died waits out the deadline until
its heartbeat is older than the presence TTL; then nobody waits for it.

Redis may fail or hang: every call to it is bounded, and a question it cannot carry is answered by
this node alone (as presence answers from this node's knowledge meanwhile). The subscription is
made again after a lost connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import orjson
import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from server.adapters.cluster import codec, redis_pool
from server.adapters.cluster.redis_presence import RedisRegistry
from server.chat.kernel.gather import Answer, Answerer, Answerers
from server.chat.kernel.periodic import cancel_until_done

log = logging.getLogger("parley.cluster")
TIMEOUT = 1.0  # seconds a call to Redis (the live nodes, a publish, a subscription) may take
RETRY = 1.0  # seconds between attempts to subscribe again
LISTEN_STEP = 1.0  # seconds one wait for a message may take (a stop is seen at once anyway)
TROUBLE = (redis.exceptions.RedisError, OSError, TimeoutError)


class _Waiting:
    """One question's answers as they come, and the nodes still to answer."""

    def __init__(self, expected: set[str]) -> None:
        self.expected = expected
        self.answers: dict[str, Answer | None] = {}
        self.done = asyncio.Event()

    def add(self, node: str, answer: Answer | None) -> None:
        if node in self.expected and node not in self.answers:
            self.answers[node] = answer
            if len(self.answers) == len(self.expected):
                self.done.set()


class RedisGather:
    def __init__(self, url: str, channel: str, registry: RedisRegistry) -> None:
        self.url = url
        self.registry = registry
        self.node = registry.node
        self._prefix = channel
        self._asks = f"{channel}:ask"
        self._answers = self._answers_of(self.node)
        self.answerers = Answerers()
        self._redis: Any = None
        self._listening: asyncio.Task[None] | None = None
        self._waiting: dict[str, _Waiting] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _answers_of(self, node: str) -> str:
        return f"{self._prefix}:answers:{node}"

    def answer(self, kind: type, answerer: Answerer) -> None:
        self.answerers.add(kind, answerer)

    async def start(self) -> None:
        """Subscribe before serving if Redis answers (else the listener keeps trying)."""
        self._redis = redis_pool.client(self.url, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0))
        pubsub = None
        try:
            pubsub = await self._subscribe()
        except TROUBLE as exc:
            log.warning("could not subscribe to the nodes' questions (%r); trying again", exc)
        self._listening = asyncio.create_task(self._listen(pubsub), name="parley-gather-listener")

    async def stop(self) -> None:
        await cancel_until_done(*self._tasks, self._listening)  # again if one lost its cancellation
        if self._redis is not None:
            await self._redis.aclose()

    async def ask(self, question: Any, within: float) -> list[Answer]:
        """This node's answer and every live node's that came within ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        mine = asyncio.ensure_future(self.answerers.answer(question))
        others = await self._ask_others(question, deadline)
        try:
            own = await asyncio.wait_for(mine, max(deadline - loop.time(), 0.0))
        except TimeoutError:
            own = None
        return [answer for answer in (own, *others) if answer is not None]

    async def _ask_others(self, question: Any, deadline: float) -> list[Answer]:
        assert self._redis is not None, "asked before start"
        try:
            async with asyncio.timeout(TIMEOUT):
                live = set(await self.registry.live_nodes()) - {self.node}
        except TROUBLE as exc:
            log.warning("could not ask the other nodes (%r); answering alone", exc)
            return []
        if not live:
            return []
        ask_id = uuid.uuid4().hex
        waiting = self._waiting[ask_id] = _Waiting(live)
        message = orjson.dumps({"id": ask_id, "node": self.node, "q": codec.plain(question)})
        try:
            async with asyncio.timeout(TIMEOUT):
                await self._redis.publish(self._asks, message)
            async with asyncio.timeout_at(deadline):
                await waiting.done.wait()
        except TimeoutError:
            pass  # the answers that came are the answer
        except TROUBLE as exc:
            log.warning("could not ask the other nodes (%r); answering alone", exc)
        finally:
            del self._waiting[ask_id]
        return [answer for answer in waiting.answers.values() if answer is not None]

    async def _subscribe(self) -> Any:
        pubsub: Any = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            async with asyncio.timeout(TIMEOUT):
                await pubsub.subscribe(self._asks, self._answers)
        except BaseException:
            await _close(pubsub)
            raise
        return pubsub

    async def _listen(self, pubsub: Any) -> None:
        """Read questions and answers for the node's life, subscribing again after a failure."""
        failing = False
        while True:
            try:
                if pubsub is None:
                    pubsub = await self._subscribe()
                    if failing:
                        log.warning("subscribed to the nodes' questions again")
                    failing = False
                while True:
                    message = await pubsub.get_message(timeout=LISTEN_STEP)
                    if message is not None and message.get("type") == "message":
                        self._received(message.get("channel", b""), message.get("data", b""))
            except asyncio.CancelledError:
                if pubsub is not None:
                    await _close(pubsub)
                raise
            except TROUBLE as exc:
                if not failing:
                    log.warning("lost the nodes' questions (%r); subscribing again every %s s", exc, RETRY)
                failing = True
                if pubsub is not None:
                    await _close(pubsub)
                pubsub = None
            await asyncio.sleep(RETRY)

    def _received(self, channel: bytes | str, data: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        try:
            message = orjson.loads(data)
            ask_id, node = str(message["id"]), str(message["node"])
            if name == self._asks:
                if node != self.node:
                    self._answer_soon(ask_id, node, codec.built(message["q"]))
            elif (waiting := self._waiting.get(ask_id)) is not None:
                answer = message.get("a")
                waiting.add(node, answer if isinstance(answer, dict) else None)
        except (orjson.JSONDecodeError, KeyError, TypeError, codec.UnknownEvent):
            log.warning("ignored an unreadable message on %s", name)

    def _answer_soon(self, ask_id: str, asker: str, question: Any) -> None:
        task = asyncio.create_task(self._answer(ask_id, asker, question), name="parley-gather-answer")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, ask_id: str, asker: str, question: Any) -> None:
        answer = await self.answerers.answer(question)
        message = orjson.dumps({"id": ask_id, "node": self.node, "a": answer})
        try:
            async with asyncio.timeout(TIMEOUT):
                await self._redis.publish(self._answers_of(asker), message)
        except TROUBLE as exc:
            log.warning("could not answer node %s (%r)", asker, exc)


async def _close(pubsub: Any) -> None:
    """Let go of a subscription whose broker may hang: bounded, and quiet about a dead one."""
    with contextlib.suppress(*TROUBLE):
        async with asyncio.timeout(TIMEOUT):
            await pubsub.aclose()
