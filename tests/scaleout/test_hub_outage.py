"""A broker outage costs latency, never a message (PROTOCOL.md section 4, "Several nodes").

Two nodes on PostgreSQL and a Redis of the test's own; a sender on node A sends all along, a
receiver stays connected on node B. Redis is killed and started again (empty, as after a crash),
or paused (it hangs: connections stay open, nothing answers). The clients' own records must show:
every send acknowledged (it was stored), and every acknowledged message received live on the
other node, in ``seq`` order with no gap, without reconnecting.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from server.adapters.cluster.redis_presence import RedisRegistry
from tests.bots_support import Api, bot_with_token, ok
from tests.edge.gateway.wsclient import opened
from tests.redis_instance import OwnRedis, own_redis
from tests.scaleout.conftest import two_nodes
from tests.support import PASSWORD, Client, LiveServer, bearer, general_with, polled

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(120)]
PACE = 0.1  # seconds between two sends: the shape of the load, not a synchronisation
ANSWER_WITHIN = 5.0  # a send answered later than this counts as hanging
RECEIVED_WITHIN = 20.0  # after the outage ends, what every connected member must have by then


class Sender:
    """Sends to a topic all along, recording each answer with how long it took."""

    answer_within = ANSWER_WITHIN  # a send answered later than this counts as hanging

    def __init__(self, client: Client, topic: str) -> None:
        self.client = client
        self.topic = topic
        self.acked: list[dict[str, Any]] = []
        self.failed: list[Any] = []
        self.slowest = 0.0
        self.answered = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    @property
    def count(self) -> int:
        return len(self.acked) + len(self.failed)

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            payload = {"topic": self.topic, "body": f"m{self.count}", "client_id": uuid.uuid4().hex}
            try:
                ack = await asyncio.wait_for(self.client.call("message:send", payload), ANSWER_WITHIN)
            except TimeoutError:
                ack = {"ok": False, "error": "no answer within the bound"}
            self.slowest = max(self.slowest, time.monotonic() - started)
            (self.acked if ack.get("ok") else self.failed).append(ack.get("data", ack))
            self.answered.set()
            await asyncio.sleep(PACE)

    async def more(self, answers: int) -> None:
        """Wait until ``answers`` more sends have been answered."""
        target = self.count + answers
        async with asyncio.timeout(answers * (self.answer_within + PACE) + 5):
            while self.count < target:
                self.answered.clear()
                await self.answered.wait()

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def received_all(receiver: Client, expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``message`` events ``receiver`` got until every expected one arrived (bounded)."""
    wanted = {message["id"] for message in expected}
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(RECEIVED_WITHIN):
        while not wanted <= {message["id"] for message in got}:
            got.append(await receiver.next("message", timeout=RECEIVED_WITHIN))
    return got


def in_order_without_gap(messages: list[dict[str, Any]]) -> None:
    seqs = [message["seq"] for message in messages]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


Fault = Callable[[OwnRedis, Sender], Awaitable[None]]
TRANSPORTS = [pytest.param(["websocket"], id="websocket"), pytest.param(["polling"], id="polling")]


async def outage(tmp_path: Path, fault: Fault, transports: list[str]) -> Sender:
    """Run ``fault`` while alice (node A) sends to general, and bob (Socket.IO on ``transports``)
    and carol (the topics dialect's WebSocket) listen on node B; check what they received."""
    async with (
        own_redis(tmp_path / "redis") as broker,
        two_nodes(tmp_path, redis=broker.url, default_topics=[]) as (a, b),
    ):
        alice = await a.user("alice")
        bob = await b.connect("bob", await b.register("bob"), transports=transports)
        carol_token = await b.register("carol")
        await general_with(alice, bob)
        async with opened(b, f"/compat/topics/{carol_token}") as carol:
            await carol.until({"action": "connected"})
            await carol.send({"action": "suscribe", "topic_name": "general"})
            await carol.until({"action": "suscribe"})
            sender = Sender(alice, "general")
            try:
                await sender.more(5)
                await fault(broker, sender)
                await sender.more(20)  # after the broker is back
            finally:
                await sender.stop()

            got = await received_all(bob, sender.acked)
            assert bob.connected  # live, not from a backlog after a reconnection
            in_order_without_gap(got)
            assert [m["id"] for m in got] == [m["id"] for m in sender.acked]
            pushed = [
                await carol.until({"action": "message", "topic_name": "general"}, timeout=RECEIVED_WITHIN)
                for _ in sender.acked
            ]
            assert [p["id"] for p in pushed] == [m["id"] for m in sender.acked]
        return sender


@pytest.mark.parametrize("transports", TRANSPORTS)
async def test_a_killed_and_restarted_broker_fails_no_send_and_loses_no_message(
    tmp_path: Path, transports: list[str]
):
    async def crash(broker: OwnRedis, sender: Sender) -> None:
        broker.kill()
        await sender.more(50)  # sent while Redis is down (about 5 s)
        await broker.start()

    sender = await outage(tmp_path, crash, transports)

    assert sender.failed == []
    assert sender.slowest < ANSWER_WITHIN


@pytest.mark.parametrize("transports", TRANSPORTS)
async def test_a_paused_broker_holds_up_no_send_and_loses_no_message(tmp_path: Path, transports: list[str]):
    async def hang(broker: OwnRedis, sender: Sender) -> None:
        broker.pause()
        try:
            await sender.more(50)  # sent while Redis hangs
        finally:
            broker.resume()

    sender = await outage(tmp_path, hang, transports)

    assert sender.failed == []
    assert sender.slowest < ANSWER_WITHIN


async def test_a_member_invited_while_the_broker_was_down_hears_the_topic_once_it_is_back(tmp_path: Path):
    async with (
        own_redis(tmp_path / "redis") as broker,
        two_nodes(tmp_path, redis=broker.url, default_topics=[]) as (a, b),
    ):
        alice, bob = await a.user("alice"), await b.user("bob")
        await general_with(alice, bob)
        broker.kill()
        await alice.ok("topic:create", {"name": "secret", "private": True})
        await alice.ok("topic:invite", {"topic": "secret", "username": "bob"})  # news that is lost
        sent = await alice.ok("message:send", {"topic": "secret", "body": "for bob"})
        await broker.start()

        got = await received_all(bob, [sent])

        assert got[-1]["topic"] == "secret"
        assert bob.connected
        later = await alice.ok("message:send", {"topic": "secret", "body": "and live again"})
        assert (await bob.next("message", timeout=RECEIVED_WITHIN))["id"] == later["id"]


async def test_a_user_who_left_while_the_broker_hung_is_not_left_online(tmp_path: Path):
    async with (
        own_redis(tmp_path / "redis") as broker,
        two_nodes(tmp_path, redis=broker.url, default_topics=[]) as (_a, b),
    ):
        bob = await b.user("bob")
        bob_id = (await b.chat.directory.user("bob")).id
        registry = b.chat.presence.registry
        assert isinstance(registry, RedisRegistry)
        here = registry._users_of(registry.node)  # this node's set in Redis
        redis = Redis.from_url(broker.url)
        try:
            assert await redis.sismember(here, bob_id)
            broker.pause()
            await bob.close()  # leaves while Redis hangs: taking bob out of the set cannot work
            await until(lambda: bob_id not in registry._here)  # the leave was answered
            broker.resume()
            resumed = float((await redis.time())[0])

            async def beat_since_resumed() -> bool:
                score = await redis.zscore(registry._nodes, registry.node)
                return score is not None and score > resumed

            await until_async(beat_since_resumed)
            assert not await redis.sismember(here, bob_id)
        finally:
            await redis.aclose()


async def until(condition: Callable[[], bool], within: float = RECEIVED_WITHIN) -> None:
    async def check() -> bool:
        return condition()

    await until_async(check, within)


async def until_async(condition: Callable[[], Awaitable[bool]], within: float = RECEIVED_WITHIN) -> None:
    await polled(condition, within)


async def test_a_logout_made_while_the_broker_was_down_closes_the_sockets_on_the_other_node(tmp_path: Path):
    async with (
        own_redis(tmp_path / "redis") as broker,
        two_nodes(tmp_path, redis=broker.url, default_topics=[]) as (a, b),
    ):
        token = await b.register("bob")
        bob = await b.connect("bob", token)
        broker.kill()
        out = await a.http.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert out.status_code == 204  # its news to node B is lost
        await broker.start()

        await until(lambda: not bob.connected)


async def test_an_edit_made_while_the_broker_was_down_reaches_the_other_node_once_it_is_back(tmp_path: Path):
    async with (
        own_redis(tmp_path / "redis") as broker,
        two_nodes(tmp_path, redis=broker.url, default_topics=[]) as (a, b),
    ):
        alice, bob = await a.user("alice"), await b.user("bob")
        await general_with(alice, bob)
        sent = await alice.ok("message:send", {"topic": "general", "body": "frist"})
        assert (await bob.next("message"))["id"] == sent["id"]
        broker.kill()
        await alice.ok("message:edit", {"id": sent["id"], "body": "first"})  # its news cannot go out
        await broker.start()

        edited = await bob.next("message:edited", timeout=RECEIVED_WITHIN)

        assert (edited["id"], edited["body"]) == (sent["id"], "first")


async def test_a_bot_token_revoked_while_a_node_was_deaf_closes_its_socket_there(tmp_path: Path):
    """The news went out, but node B was not listening (its subscription lost: a broker that
    dropped it, or a node too busy to hear the heartbeat in time): after it subscribes again,
    what it missed of the revocations is read from the database."""
    async with (
        own_redis(tmp_path / "redis") as broker,
        two_nodes(tmp_path, redis=broker.url, default_topics=[]) as (a, b),
    ):
        owner = Api(a, await a.register("alice"))
        token_id, token = await bot_with_token(owner, "helper")
        _, other = await bot_with_token_of(owner, "helper", "kept")
        doomed, kept = await b.connect("helper", token), await b.connect("helper", other)
        await deafen_the_node_with_sockets(broker)
        assert ok(await owner.delete(f"/api/bots/helper/tokens/{token_id}")) == {}  # B does not hear it

        await until(lambda: not doomed.connected)
        assert "topics" in await kept.ok("topic:list")


async def test_a_session_ended_while_a_node_was_deaf_closes_its_sockets_there(tmp_path: Path):
    async with (
        own_redis(tmp_path / "redis") as broker,
        two_nodes(tmp_path, redis=broker.url, default_topics=[]) as (a, b),
    ):
        await a.register("bob")
        phone, laptop = await log_in(a, "bob"), await log_in(a, "bob")
        on_phone, on_laptop = await b.connect("bob", phone), await b.connect("bob", laptop)
        listed = ok(await Api(a, laptop).get("/api/users/me/sessions"))
        ended = next(session["id"] for session in listed if not session["current"])
        await deafen_the_node_with_sockets(broker)
        gone = await a.http.delete(f"/api/users/me/sessions/{ended}", headers=bearer(laptop))
        assert gone.status_code == 204  # B does not hear it

        await until(lambda: not on_phone.connected)
        assert "topics" in await on_laptop.ok("topic:list")


async def deafen_the_node_with_sockets(broker: OwnRedis) -> None:
    """Drop the subscription of the one node whose sockets follow channels of their own (sharded
    ones); the other node, still subscribed, publishes at once. The deaf node subscribes again
    ``redis_hub.RETRY`` seconds later."""
    redis = Redis.from_url(broker.url)
    try:
        subscribers = [c for c in await redis.client_list(_type="pubsub") if int(c.get("ssub", 0)) > 0]
        assert len(subscribers) == 1, subscribers
        assert await redis.client_kill_filter(_id=subscribers[0]["id"]) == 1
    finally:
        await redis.aclose()


async def bot_with_token_of(owner: Api, name: str, label: str) -> tuple[str, str]:
    """Another token of the existing bot ``name``: (token id, token)."""
    made = ok(await owner.post(f"/api/bots/{name}/tokens", {"label": label}), 201)
    return made["id"], made["token"]


async def log_in(node: LiveServer, username: str) -> str:
    """A login's access token: a session of its own (PROTOCOL.md section 19)."""
    answer = await node.http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token
