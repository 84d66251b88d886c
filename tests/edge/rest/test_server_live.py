"""The server API's live routes over REST (PROTOCOL.md section 17), on one real server: ``POST
/api/server/emit`` and the presence of a topic and of a user, each refused without a key (401),
with a revoked one (401) or without its scope (403), and bad input answered with the protocol's
error and reaching nobody. Two nodes: ``tests/scaleout/test_server_live_nodes.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.contract import assert_error
from tests.shared_server import Names, own_sockets, shared_server
from tests.support import LiveServer, bearer

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROUTES = [
    ("POST", "/api/server/emit", "publish"),
    ("GET", "/api/server/topics/lobby/presence", "presence"),
    ("GET", "/api/server/users/nobody/presence", "presence"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest.fixture
def names() -> Names:
    return Names()


async def key_for(server: LiveServer, label: str, scopes: list[str] | None = None) -> dict[str, str]:
    made = await server.chat.server_keys.create(label, scopes)
    return bearer(made.key)


async def emit(server: LiveServer, key: dict[str, str], **body: Any) -> Any:
    return await server.http.post("/api/server/emit", headers=key, json=body)


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_each_route_needs_a_live_key_with_its_scope(live_server, names, method, path, scope):
    others = [name for name in ("publish", "members", "presence", "users", "disconnect") if name != scope]
    lacking = await key_for(live_server, names.lacking, others)
    made = await live_server.chat.server_keys.create(names.revoked)
    await live_server.chat.server_keys.revoke(made.id)
    user_token = bearer(await live_server.register(names.alice))
    body = {"user": names.alice, "event": "app:x"} if method == "POST" else None

    for headers in ({}, user_token, bearer(made.key), bearer("psk_" + "x" * 43)):
        assert_error(
            await live_server.http.request(method, path, headers=headers, json=body), 401, "unauthorized"
        )
    assert_error(await live_server.http.request(method, path, headers=lacking, json=body), 403, "forbidden")


async def test_an_emit_answers_the_sockets_it_reached(live_server, names):
    key = await key_for(live_server, names.app)
    alice = await live_server.user(names.alice)

    answer = await emit(live_server, key, user=names.alice, event="app:hello", data={"a": 1})

    assert (answer.status_code, answer.json()) == (202, {"sockets": 1})
    assert await alice.next("app:hello") == {"a": 1}


async def test_an_emit_with_acknowledgements_answers_them(live_server, names):
    key = await key_for(live_server, names.app)
    alice = await live_server.user(names.alice)

    async def answer_ping(data: Any) -> Any:
        return {"pong": data}

    alice.sio.on("app:ping", answer_ping)

    answer = await emit(live_server, key, user=names.alice, event="app:ping", data=7, ack_timeout_ms=5000)

    assert answer.status_code == 200
    assert answer.json() == {"acks": [{"socket": alice.sio.get_sid(), "data": {"pong": 7}}], "missing": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"event": "ping"},
        {"event": "app:" + "x" * 61},
        {"event": "app:x", "ack_timeout_ms": 0},
        {"event": "app:x", "ack_timeout_ms": 30001},
        {"event": "app:x", "ack_timeout_ms": 1.5},
        {"event": 5},
        {},
    ],
)
async def test_bad_input_is_invalid_and_reaches_nobody(live_server, names, body):
    key = await key_for(live_server, names.app)
    alice = await live_server.user(names.alice)

    assert_error(await emit(live_server, key, user=names.alice, **body), 422, "invalid")
    assert_error(
        await emit(live_server, key, topic="lobby", event="app:x", ack_timeout_ms=10), 422, "invalid"
    )
    assert_error(await emit(live_server, key, event="app:x"), 422, "invalid")

    await emit(live_server, key, user=names.alice, event="app:after")
    await alice.next("app:after")
    assert [name for name in alice.events if name.startswith("app:") and name != "app:after"] == []


async def test_data_over_64_kib_is_too_large(live_server, names):
    key = await key_for(live_server, names.app)
    await live_server.register(names.alice)

    fits = await emit(live_server, key, user=names.alice, event="app:x", data="x" * (64 * 1024 - 2))
    assert fits.status_code == 202
    too_large = await emit(live_server, key, user=names.alice, event="app:x", data="x" * (64 * 1024 - 1))
    assert_error(too_large, 413, "too_large")


async def test_what_does_not_exist_is_not_found(live_server, names):
    key = await key_for(live_server, names.app)

    assert_error(await emit(live_server, key, user="nobody", event="app:x"), 404, "not_found")
    assert_error(await emit(live_server, key, topic="nowhere", event="app:x"), 404, "not_found")
    for path in ("/api/server/topics/nowhere/presence", "/api/server/users/nobody/presence"):
        assert_error(await live_server.http.get(path, headers=key), 404, "not_found")


async def test_presence_of_a_topic_and_of_a_user(live_server, names):
    key = await key_for(live_server, names.app, ["presence"])
    alice = await live_server.user(names.alice)
    token = await live_server.register(names.bob)
    await live_server.connect(names.bob, token)
    await live_server.connect(names.bob, token)
    await live_server.register(names.carol)
    await alice.ok("topic:create", {"name": names.topic, "private": True})
    for invited in (names.bob, names.carol):
        await alice.ok("topic:invite", {"topic": names.topic, "username": invited})

    topic = await live_server.http.get(f"/api/server/topics/{names.topic}/presence", headers=key)
    bob = await live_server.http.get(f"/api/server/users/{names.bob}/presence", headers=key)
    carol = await live_server.http.get(f"/api/server/users/{names.carol}/presence", headers=key)

    assert topic.json() == {"online": sorted([names.alice, names.bob]), "count": 2}
    assert bob.json() == {"online": True, "sockets": 2, "availability": "online", "last_seen": None}
    assert carol.json() == {"online": False, "sockets": 0, "availability": "offline", "last_seen": None}
