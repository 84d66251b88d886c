"""Limits hold for the whole cluster (issue 36 item 3; README "Several nodes").

Two nodes on one PostgreSQL and one Redis: a user who spreads topic creations, invites, uploads,
sockets, sign-ups, failed logins or posts to a hook over both nodes is refused at the single
limit, not at twice it; uploads racing on PostgreSQL never pass the quota together; while Redis
fails each node keeps to its own counts. The limits are small settings so that tests are quick.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from db.models import File
from tests.bots_support import ok, refused, user_api
from tests.contract import error_code
from tests.edge.sio.test_connect import assert_refused, socket
from tests.files_support import upload
from tests.redis_instance import own_redis
from tests.scaleout.conftest import two_nodes
from tests.support import LiveServer, count

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(60)]
ANSWER_WITHIN = 2.0  # seconds a limited call may take while Redis fails (its bound is 0.25 s)


async def test_topics_spread_over_two_nodes_are_counted_once(tmp_path: Path) -> None:
    async with two_nodes(tmp_path, default_topics=[], topics_per_hour=2) as (node_a, node_b):
        token = await node_a.register("alice")
        on_a, on_b = await node_a.connect("alice", token), await node_b.connect("alice", token)
        await on_a.ok("topic:create", {"name": "one"})
        await on_b.ok("topic:create", {"name": "two"})
        for client, name in ((on_a, "three"), (on_b, "four")):
            assert error_code(await client.call("topic:create", {"name": name})) == "rate_limited"


async def test_invites_spread_over_two_nodes_are_counted_once(tmp_path: Path) -> None:
    async with two_nodes(tmp_path, default_topics=[], invites_per_hour=2) as (node_a, node_b):
        token = await node_a.register("alice")
        for name in ("bob", "carol", "dave"):
            await node_a.register(name)
        on_a, on_b = await node_a.connect("alice", token), await node_b.connect("alice", token)
        await on_a.ok("topic:create", {"name": "den", "private": True})
        await on_a.ok("topic:invite", {"topic": "den", "username": "bob"})
        await on_b.ok("topic:invite", {"topic": "den", "username": "carol"})
        for client in (on_a, on_b):
            ack = await client.call("topic:invite", {"topic": "den", "username": "dave"})
            assert error_code(ack) == "rate_limited"


async def test_uploads_spread_over_two_nodes_are_counted_once(tmp_path: Path) -> None:
    shared = tmp_path / "shared-files"
    async with two_nodes(tmp_path, files_dir=shared, file_uploads_per_minute=2) as (node_a, node_b):
        token = await node_a.register("alice")
        assert (await upload(node_a, token, b"one")).status_code == 201
        assert (await upload(node_b, token, b"two")).status_code == 201
        for node in (node_a, node_b):
            refused = await upload(node, token, b"three")
            assert (refused.status_code, refused.json()["error"]["code"]) == (429, "rate_limited")
            assert int(refused.headers["Retry-After"]) > 0


async def test_sign_ups_from_one_address_over_two_nodes_are_counted_once(tmp_path: Path) -> None:
    async with two_nodes(tmp_path, register_per_hour=2) as (node_a, node_b):
        await node_a.register("alice")
        await node_b.register("bob")
        for node, name in ((node_a, "carol"), (node_b, "dave")):
            refused = await node.http.post("/api/users", json={"username": name, "password": "password123"})
            assert (refused.status_code, refused.json()["error"]["code"]) == (429, "rate_limited")


async def test_failed_logins_over_two_nodes_are_counted_once(tmp_path: Path) -> None:
    async with two_nodes(tmp_path, login_failures_per_account=2) as (node_a, node_b):
        await node_a.register("alice")
        wrong = {"username": "alice", "password": "wrong-password"}
        for node in (node_a, node_b):
            assert (await node.http.post("/api/auth/login", json=wrong)).status_code == 401
        for node in (node_a, node_b):
            refused = await node.http.post("/api/auth/login", json=wrong)
            assert (refused.status_code, refused.json()["error"]["code"]) == (429, "rate_limited")


async def test_sockets_of_a_user_over_two_nodes_are_counted_once(tmp_path: Path) -> None:
    async with two_nodes(tmp_path, max_connections_per_user=2) as (node_a, node_b):
        token = await node_a.register("alice")
        first = await node_a.connect("alice", token)
        async with socket(node_b.url, "/echo", auth={"token": token}) as echo:  # counts too
            assert echo.refusal is None
            for node in (node_a, node_b):
                async with socket(node.url, auth={"token": token}) as attempt:
                    assert_refused(attempt, "rate_limited")
                async with socket(node.url, "/echo", auth={"token": token}) as attempt:
                    assert_refused(attempt, "rate_limited", "/echo")
        await first.close()  # a closed socket no longer counts, on any node
        await until_admitted(node_b, token)


async def until_admitted(node: LiveServer, token: str) -> None:
    """A socket of the user is let in on ``node`` (bounded: a close may take a moment to count)."""
    deadline = time.monotonic() + 5
    while True:
        async with socket(node.url, auth={"token": token}) as attempt:
            if attempt.refusal is None:
                assert (await attempt.session())["user"] == {"username": "alice"}
                return
        assert time.monotonic() < deadline, "the closed socket still counts"
        await asyncio.sleep(0.05)  # polls the count across nodes; no event tells this client


async def test_concurrent_uploads_over_two_nodes_never_pass_the_quota_together(tmp_path: Path) -> None:
    """The quota is checked inside the transaction that claims the bytes: uploads racing on
    PostgreSQL (read committed: each would see the others' rows only once committed) must not
    together take the user past it."""
    shared, quota, size, racers = tmp_path / "shared-files", 1000, 300, 12
    async with two_nodes(tmp_path, files_dir=shared, file_quota_bytes=quota) as (node_a, node_b):
        token = await node_a.register("alice")
        answers = await asyncio.gather(
            *(upload((node_a, node_b)[n % 2], token, bytes([n]) * size, f"f{n}.bin") for n in range(racers))
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201] * (quota // size) + [413] * (racers - quota // size), statuses
        assert await count(node_a, File) == quota // size


@pytest.mark.parametrize("fault", ["killed", "paused"])
async def test_a_node_keeps_to_its_own_limits_while_redis_fails(tmp_path: Path, fault: str) -> None:
    """Redis killed (refuses) or paused (hangs): each node answers within a short bound from its
    own counts, which still refuse at the limit on that node; sends still work."""
    async with (
        own_redis(tmp_path / "redis") as broker,
        two_nodes(
            tmp_path, redis=broker.url, default_topics=[], topics_per_hour=2, max_connections_per_user=1
        ) as (node_a, node_b),
    ):
        token = await node_a.register("alice")
        on_a = await node_a.connect("alice", token)
        await on_a.ok("topic:create", {"name": "one"})
        broker.kill() if fault == "killed" else broker.pause()

        started = time.monotonic()
        await on_a.ok("topic:create", {"name": "two"})
        assert time.monotonic() - started < ANSWER_WITHIN
        assert error_code(await on_a.call("topic:create", {"name": "three"})) == "rate_limited"
        async with socket(node_a.url, auth={"token": token}) as attempt:
            assert_refused(attempt, "rate_limited")
        sent = await on_a.ok("message:send", {"topic": "one", "body": "still here"})
        assert sent["body"] == "still here"
        # Node B on its own: no more than one node allows alone.
        on_b = await node_b.connect("alice", token)
        await on_b.ok("topic:create", {"name": "four"})
        await on_b.ok("topic:create", {"name": "five"})
        assert error_code(await on_b.call("topic:create", {"name": "six"})) == "rate_limited"
        broker.stop()


async def test_the_cluster_count_of_sockets_is_true_again_once_redis_is_back(tmp_path: Path) -> None:
    """A socket let in while Redis was down (on the node's own count) is in the cluster's count
    within a heartbeat of Redis coming back, empty: the beat writes each node's counts anew."""
    async with (
        own_redis(tmp_path / "redis") as broker,
        two_nodes(
            tmp_path, redis=broker.url, default_topics=[], max_connections_per_user=1, presence_ttl=1.5
        ) as (node_a, node_b),
    ):
        token = await node_a.register("alice")
        broker.kill()
        await node_a.connect("alice", token)  # counted on node A only
        await broker.start()
        deadline = time.monotonic() + 10
        while True:
            async with socket(node_b.url, auth={"token": token}) as attempt:
                if attempt.refusal is not None:
                    assert_refused(attempt, "rate_limited")
                    break
            assert time.monotonic() < deadline, "node A's socket never reached the cluster's count"
            await asyncio.sleep(0.1)  # polls the count; nothing tells a client when a beat went through


async def test_posts_to_a_hook_over_two_nodes_are_counted_once(tmp_path: Path) -> None:
    async with two_nodes(tmp_path, hook_posts_per_minute=2) as (node_a, node_b):
        alice = await user_api(node_a, "alice")
        ok(await alice.post("/api/topics", {"name": "general"}), 201)
        url = ok(await alice.post("/api/topics/general/hooks", {}), 201)["url"]
        ok(await node_a.http.post(url, json={"text": "one"}))
        ok(await node_b.http.post(url, json={"text": "two"}))
        for node in (node_a, node_b):
            refused(await node.http.post(url, json={"text": "one too many"}), 429, "rate_limited")
