"""Operator commands against a running server (in this process, as ``parley serve`` builds it; a
real SQLite file, real clients).

Without Redis the command leaves its events in the relay table and the server reads them every
second (``server.adapters.cluster.db_relay``); with ``PARLEY_TEST_REDIS_URL`` set, the Redis variant runs the
server and the commands on one hub channel. Every wait is a bounded poll on what the client sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.cli.runner import PASSWORD, Place, parley, place_in, serving, serving_process
from tests.support import polled

pytestmark = pytest.mark.timeout(180)  # a server and several commands, each a new event loop
WAIT = 10.0  # bounds every wait for what a command changes on the running server (the relay: ~1 s)


@dataclass
class Client:
    sio: socketio.AsyncClient
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    errors: list[Any] = field(default_factory=list)
    events: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)

    async def event(self, name: str) -> Any:
        """The next event called ``name`` (others are skipped), within ``WAIT``."""
        async with asyncio.timeout(WAIT):
            while True:
                got, data = await self.events.get()
                if got == name:
                    return data

    async def call(self, event: str, payload: dict[str, Any]) -> Any:
        return await self.sio.call(event, payload, timeout=WAIT)


@asynccontextmanager
async def connected(url: str, token: str) -> AsyncIterator[Client]:
    client = Client(socketio.AsyncClient(reconnection=False))

    async def on_any(name: str, data: Any = None) -> None:
        await client.events.put((name, data))

    async def on_disconnect(*_reason: Any) -> None:
        client.closed.set()

    async def on_error(data: Any) -> None:
        client.errors.append(data)

    client.sio.on("*", on_any)
    client.sio.on("disconnect", on_disconnect)
    client.sio.on("connect_error", on_error)
    await client.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=WAIT)
    try:
        await client.event("session")
        yield client
    finally:
        if client.sio.connected:
            await client.sio.disconnect()


async def refused_connection(url: str, token: str) -> Any:
    """Connect with ``token`` expecting a refusal; the ``connect_error`` data."""
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []

    async def on_error(data: Any) -> None:
        errors.append(data)

    sio.on("connect_error", on_error)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=WAIT)
    return errors[0]


async def login(url: str, username: str, password: str = PASSWORD) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
        return await http.post("/api/auth/login", json={"username": username, "password": password})


async def token_of(url: str, username: str, password: str = PASSWORD) -> str:
    response = await login(url, username, password)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


async def ok(place: Place, *args: str, stdin: str = "") -> str:
    result = await parley(place, *args, stdin=stdin)
    assert result.code == 0, result.err
    return result.out


async def create(place: Place, *names: str) -> None:
    for name in names:
        await ok(place, "user", "create", name, "--password-stdin", stdin=PASSWORD + "\n")


def redis_place(place: Place) -> Place:
    url = os.environ.get("PARLEY_TEST_REDIS_URL")
    if not url:
        pytest.skip("PARLEY_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    return place.with_env(PARLEY_REDIS_URL=url, PARLEY_REDIS_CHANNEL=f"parley-cli-{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["relay", pytest.param("redis", marks=pytest.mark.redis)])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    base = place_in(tmp_path)
    return redis_place(base) if request.param == "redis" else base


async def test_disable_closes_the_socket_and_refuses_login_until_enabled(place, unused_tcp_port):
    await create(place, "alice")
    async with serving(place, unused_tcp_port) as url:
        token = await token_of(url, "alice")
        async with connected(url, token) as client:
            await ok(place, "user", "disable", "alice")
            await asyncio.wait_for(client.closed.wait(), WAIT)
        refused = await login(url, "alice")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
        assert "disabled" in refused.json()["error"]["message"]
        assert (await login(url, "alice", "wrong-password")).json()["error"]["message"] != refused.json()[
            "error"
        ]["message"]  # the disabled answer only for the right password
        error = await refused_connection(url, token)
        assert error["data"]["code"] == "unauthorized" and "disabled" in error["data"]["message"]
        await ok(place, "user", "enable", "alice")
        async with connected(url, await token_of(url, "alice")):
            pass


async def test_set_password_closes_the_socket_and_only_the_new_password_logs_in(place, unused_tcp_port):
    await create(place, "alice")
    async with serving(place, unused_tcp_port) as url:
        token = await token_of(url, "alice")
        async with connected(url, token) as client:
            await ok(place, "user", "set-password", "alice", "--password-stdin", stdin="brand-new-pass\n")
            await asyncio.wait_for(client.closed.wait(), WAIT)
        assert (await login(url, "alice")).status_code == 401
        error = await refused_connection(url, token)
        assert error["data"]["code"] == "token_revoked"
        await token_of(url, "alice", "brand-new-pass")


async def test_delete_closes_the_socket_and_keeps_the_messages_under_a_placeholder(place, unused_tcp_port):
    await create(place, "alice", "bobby")
    async with serving(place, unused_tcp_port) as url:
        alice, bobby = await token_of(url, "alice"), await token_of(url, "bobby")
        async with connected(url, alice) as client, connected(url, bobby) as other:
            sent = await client.call("message:send", {"topic": "lobby", "body": "hello"})
            assert sent["ok"], sent
            deleted = json.loads(await ok(place, "user", "delete", "alice", "--json"))
            assert deleted["messages_kept"] == 1
            await asyncio.wait_for(client.closed.wait(), WAIT)
            history = await other.call("history", {"topic": "lobby"})
            assert [(m["sender"], m["body"], m["seq"]) for m in history["data"]["messages"]] == [
                (deleted["placeholder"], "hello", 1)
            ]
            assert not other.closed.is_set()
        assert (await login(url, "alice")).status_code == 401
        await create(place, "alice")  # the name is free for a new account, which starts afresh
        async with connected(url, await token_of(url, "alice")) as newcomer:
            sent = await newcomer.call("message:send", {"topic": "lobby", "body": "I am new"})
            assert sent["ok"] and sent["data"]["seq"] == 2 and sent["data"]["sender"] == "alice"


async def test_a_renamed_topic_is_seen_by_a_connected_member_and_the_old_name_is_gone(place, unused_tcp_port):
    await create(place, "alice")
    async with serving(place, unused_tcp_port) as url:
        async with connected(url, await token_of(url, "alice")) as client:
            created = await client.call("topic:create", {"name": "Ops"})
            assert created["ok"], created
            assert (await client.call("message:send", {"topic": "ops", "body": "before"}))["ok"]
            await ok(place, "topic", "rename", "ops", "Operations")
            assert await client.event("topic:renamed") == {"topic": "Ops", "name": "Operations"}
            sent = await client.call("message:send", {"topic": "operations", "body": "after"})
            assert sent["ok"] and sent["data"]["topic"] == "Operations" and sent["data"]["seq"] == 2
            old = await client.call("message:send", {"topic": "ops", "body": "lost"})
            assert old["error"]["code"] == "not_found"
            listed = await client.call("topic:list", {})
            assert "Operations" in [t["name"] for t in listed["data"]["topics"]]
            recreated = await client.call("topic:create", {"name": "ops"})  # the old name is free
            assert recreated["ok"] and recreated["data"]["last_seq"] == 0


async def test_a_deleted_topic_is_announced_and_its_name_can_be_created_again(place, unused_tcp_port):
    await create(place, "alice")
    async with serving(place, unused_tcp_port) as url:
        async with connected(url, await token_of(url, "alice")) as client:
            assert (await client.call("topic:create", {"name": "ops"}))["ok"]
            assert (await client.call("message:send", {"topic": "ops", "body": "old"}))["ok"]
            await ok(place, "topic", "delete", "ops")
            assert await client.event("topic:deleted") == {"topic": "ops"}
            again = await client.call("topic:create", {"name": "ops"})
            assert again["ok"], again
            sent = await client.call("message:send", {"topic": "ops", "body": "new"})
            assert sent["ok"] and sent["data"]["seq"] == 1


async def test_stats_shows_each_running_server_with_its_sockets_and_users(place, unused_tcp_port):
    place = place.with_env(PARLEY_PRESENCE_TTL="3")  # the server rewrites its row every second
    await create(place, "alice", "bobby")
    async with serving(place, unused_tcp_port) as url:
        alice, bobby = await token_of(url, "alice"), await token_of(url, "bobby")
        async with connected(url, alice), connected(url, alice), connected(url, bobby):
            stats: dict[str, Any] = {}

            async def counted() -> bool:  # the row the server rewrites every second shows the three
                stats.update(json.loads(await ok(place, "stats", "--json")))
                return [(n["sockets"], n["users"]) for n in stats["nodes"]] == [(3, 2)]

            with contextlib.suppress(TimeoutError):  # the assertions below say what it showed
                await polled(counted, within=5.0)
            plain = await ok(place, "stats")
        [node] = stats["nodes"]
        assert (node["sockets"], node["users"]) == (3, 2)
        assert node["node"].split(":")[0] == socket.gethostname()
        assert stats["users"] == {"active": 2, "disabled": 0, "deleted": 0}
        lines = plain.splitlines()
        assert lines[3].split() == ["servers", "1", "running,", "3", "sockets"]
        assert lines[-2].split() == ["NODE", "SOCKETS", "USERS", "STARTED"]
        assert lines[-1].split()[:3] == [node["node"], "3", "2"]
    stopped = json.loads(await ok(place, "stats", "--json"))
    assert stopped["nodes"] == []  # a server that stops removes its row


async def test_serve_logs_one_line_with_the_urls_and_the_database(tmp_path, unused_tcp_port):
    place = place_in(tmp_path).with_env(PARLEY_LOG_LEVEL="INFO")
    async with serving_process(place, unused_tcp_port):  # the process's own log
        pass
    log = (tmp_path / f"serve-{unused_tcp_port}.log").read_text()
    [line] = [line for line in log.splitlines() if "parley serving" in line]
    base = f"http://127.0.0.1:{unused_tcp_port}"
    assert f"chat page {base}/ " in line and f"{base}/docs" in line and "/socket.io" in line
    assert f"sqlite+aiosqlite:///{place.database}" in line
