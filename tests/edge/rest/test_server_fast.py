"""The server API's hot routes (``server/edge/rest/server_fast.py``) answer publish and broadcast
before FastAPI, exactly as the stack would: the same statuses, headers and bodies for the same
requests, whichever answers. A request with an ``Origin`` always goes through the stack (CORS is
its business), so each request is sent twice, without and with one, and the answers compared; the
handler's count of its own answers proves it answered the first of each pair."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from server.edge.rest.api import routers
from server.edge.rest.server_fast import HOT
from tests.support import LiveServer, bearer, running
from tests.support import test_settings as make_settings

VIA_STACK = {"Origin": "http://backend.example"}
BURST = 40  # the key's requests before it is rate limited (the test spends them, then one more)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = make_settings(tmp_path / "data", server_key_burst=BURST, server_key_rate=0.01)
    async with running(settings) as live:
        yield live


def test_each_hot_route_is_its_declared_route():
    declared = {
        route.path: route
        for router in routers()
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    }
    for path, hot in HOT.items():
        route = declared[path]
        assert route.endpoint is hot.endpoint
        assert route.status_code == hot.status
        assert route.body_field is not None and route.body_field.field_info.annotation is hot.model


def answer(response: httpx.Response, volatile: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """What a client sees, but the date (and ``volatile`` fields of each message: ids, times)."""
    headers = [(name, value) for name, value in response.headers.multi_items() if name != "date"]
    body: Any = response.content
    if volatile:
        body = response.json()
        messages = body["messages"] if "messages" in body else [body]
        for message in messages:
            for name in volatile:
                message.pop(name)
        headers = [(name, value) for name, value in headers if name != "content-length"]
    return response.status_code, headers, body


async def both(
    server: LiveServer, path: str, body: Any, headers: dict[str, str], volatile: tuple[str, ...] = ()
) -> tuple[Any, ...]:
    """The hot handler's answer, after checking that the stack's is the same."""
    hot = server.app.state.hot_routes.answered
    fast = await server.http.post(path, json=body, headers=headers)
    assert server.app.state.hot_routes.answered == hot + 1, "the hot handler did not answer"
    slow = await server.http.post(path, json=body, headers={**headers, **VIA_STACK})
    assert server.app.state.hot_routes.answered == hot + 1, "the hot handler answered a request with Origin"
    assert answer(fast, volatile) == answer(slow, volatile), path
    return answer(fast, volatile)


async def test_publish_and_broadcast_answer_as_the_stack_would(server):
    alice = await server.register("alice")
    await server.http.post("/api/topics", json={"name": "news"}, headers=bearer(alice))
    key = bearer((await server.chat.server_keys.create("shop")).key)
    other = bearer((await server.chat.server_keys.create("members-only", ["members"])).key)
    messages = "/api/server/messages"
    # the same client_id: the second answers the first's message, byte for byte
    status, _, body = await both(
        server, messages, {"topic": "lobby", "body": "héllo ✓", "client_id": "c1"}, key
    )
    assert status == 201 and b'"body":"h\xc3\xa9llo \xe2\x9c\x93"' in body
    await both(server, messages, {"to": "alice", "body": "direct", "client_id": "c2"}, key)
    volatile = ("id", "seq", "created_at")
    await both(server, "/api/server/broadcast", {"topics": ["lobby", "news"], "body": "all"}, key, volatile)
    for body, headers, status in [
        ({"topic": "lobby", "body": "x"}, {}, 401),
        ({"topic": "lobby", "body": "x"}, bearer("psk_unknown"), 401),
        ({"topic": "lobby", "body": "x"}, {"Authorization": "Basic eA=="}, 401),
        ({"topic": "lobby", "body": "x"}, other, 403),
        ({"topic": "nope", "body": "x"}, key, 404),
        ({"topic": "lobby", "body": "x", "as": "alice"}, key, 403),  # no as_user scope
        ({"to": "nobody", "body": "x"}, key, 404),
    ]:
        assert (await both(server, messages, body, headers))[0] == status
    await both(server, "/api/server/broadcast", {"topics": ["lobby", "nope"], "body": "x"}, key)
    spent = 0
    while (
        last := await server.http.post(messages, json={"topic": "lobby", "body": "x"}, headers=key)
    ).status_code == 201:
        spent += 1
        assert spent <= BURST
    limited = await both(server, messages, {"topic": "lobby", "body": "x"}, key)
    assert limited[0] == 429 and ("retry-after", last.headers["retry-after"]) in limited[1]


async def test_what_the_handler_does_not_answer_goes_to_the_stack_unchanged(server):
    key = bearer((await server.chat.server_keys.create("shop")).key)
    hot = server.app.state.hot_routes.answered
    refused = [
        await server.http.post("/api/server/messages", content=b"", headers=key),
        await server.http.post(
            "/api/server/messages", content=b"{", headers={**key, "Content-Type": "application/json"}
        ),
        await server.http.post("/api/server/messages", json=[1], headers=key),
        await server.http.post("/api/server/messages", json={"topic": "lobby"}, headers=key),
        await server.http.post("/api/server/messages", data={"topic": "lobby", "body": "x"}, headers=key),
    ]
    assert [r.status_code for r in refused] == [422] * 5
    assert refused[1].json()["error"]["message"] == "the body is not valid JSON"
    # a chunked body (no Content-Length) is the body cap's to read: the stack answers it

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"topic": "lobby", '
        yield b'"body": "in pieces"}'

    sent = await server.http.post(
        "/api/server/messages", content=chunks(), headers={**key, "Content-Type": "application/json"}
    )
    assert sent.status_code == 201 and sent.json()["body"] == "in pieces"
    # and one declared past the cap is refused by it, unread
    oversized = await server.http.post(
        "/api/server/messages",
        content=b"{" + b" " * server.app.state.settings.max_body_bytes + b"}",
        headers={**key, "Content-Type": "application/json"},
    )
    assert oversized.status_code == 413
    assert server.app.state.hot_routes.answered == hot
    metrics = (await server.http.get("/metrics")).text
    assert 'route="/api/server/messages",status="201"} 1.0' in metrics
