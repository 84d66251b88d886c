"""Privacy (PROTOCOL.md section 3, amended): to a non-member a private topic does not exist.

Each event, REST route and gateway action is asked about the private topic ``Secret`` by bob, who
is not a member; then an operator deletes the topic and bob asks again. The two answers must be the
same, word for word: a non-member cannot tell a private topic from a missing one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.edge.gateway.wsclient import opened
from tests.support import Client, LiveServer, bearer

Ask = Callable[[], Awaitable[Any]]

EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("topic:subscribe", {"topic": "Secret"}),
    ("subscribe", {"topic_name": "Secret"}),
    ("suscribe", {"topic_name": "secret"}),
    ("topic:unsubscribe", {"topic": "Secret"}),
    ("topic:invite", {"topic": "Secret", "username": "bob"}),
    ("topic:members", {"topic": "Secret"}),
    ("history", {"topic": "Secret"}),
    ("read", {"topic": "Secret", "seq": 1}),
    ("delivered", {"topic": "Secret", "seq": 1}),
    ("typing", {"topic": "Secret", "typing": True}),
    ("message:send", {"topic": "Secret", "body": "let me in"}),
]


async def secret_of_alice(live_server: LiveServer) -> tuple[Client, Client, str]:
    """alice owns private ``Secret`` (one message); bob is not a member; bob's token."""
    alice = await live_server.user("alice")
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    await alice.ok("topic:create", {"name": "Secret", "private": True})
    await alice.ok("message:send", {"topic": "Secret", "body": "between us"})
    return alice, bob, bob_token


async def answers(asks: dict[str, Ask]) -> dict[str, Any]:
    return {name: await ask() for name, ask in asks.items()}


async def assert_same_as_missing(live_server: LiveServer, asks: dict[str, Ask]) -> dict[str, Any]:
    hidden = await answers(asks)
    await live_server.chat.topic_admin.delete("Secret")
    missing = await answers(asks)
    for name in asks:
        assert hidden[name] == missing[name], name
    return hidden


async def test_every_event_answers_a_private_topic_as_a_missing_one(live_server: LiveServer):
    _alice, bob, _token = await secret_of_alice(live_server)

    def ask(event: str, payload: dict[str, Any]) -> Ask:
        return lambda: bob.call(event, payload)

    hidden = await assert_same_as_missing(live_server, {event: ask(event, p) for event, p in EVENTS})

    for event, ack in hidden.items():
        assert ack == {"ok": False, "error": {"code": "not_found", "message": "no topic named 'secret'"}}, (
            event
        )


async def test_every_rest_route_answers_a_private_topic_as_a_missing_one(live_server: LiveServer):
    _alice, _bob, token = await secret_of_alice(live_server)
    http, headers = live_server.http, bearer(token)
    routes: dict[str, tuple[str, str, dict[str, Any] | None]] = {
        "get": ("GET", "/api/topics/Secret", None),
        "members": ("GET", "/api/topics/Secret/members", None),
        "messages": ("GET", "/api/topics/Secret/messages", None),
        "subscribe": ("POST", "/api/topics/Secret/subscribe", None),
        "unsubscribe": ("POST", "/api/topics/Secret/unsubscribe", None),
        "invite": ("POST", "/api/topics/Secret/invite", {"username": "bob"}),
        "send": ("POST", "/api/messages", {"topic": "Secret", "body": "let me in"}),
    }

    def ask(method: str, path: str, body: dict[str, Any] | None) -> Ask:
        async def call() -> tuple[int, Any]:
            response = await http.request(method, path, json=body, headers=headers)
            return response.status_code, response.json()

        return call

    hidden = await assert_same_as_missing(live_server, {k: ask(*route) for k, route in routes.items()})

    for name, (status, body) in hidden.items():
        assert (status, body["error"]["code"]) == (404, "not_found"), name


async def test_the_gateways_answer_a_private_topic_as_a_missing_one(live_server: LiveServer):
    _alice, _bob, token = await secret_of_alice(live_server)
    async with (
        opened(live_server, f"/compat/topics/{token}") as topics,
        opened(live_server, "/compat/rooms") as rooms,
    ):
        await topics.recv()  # connected
        await rooms.send({"username": "bob"})
        await rooms.recv()  # connected

        def topics_ask(frame: dict[str, Any]) -> Ask:
            async def call() -> Any:
                await topics.send(frame)
                return await topics.until({"action": frame["action"]})

            return call

        def rooms_ask(action: str, args: dict[str, Any]) -> Ask:
            async def call() -> Any:
                await rooms.send({"token": token, "action": action, "args": args})
                return await rooms.until({"type": action})

            return call

        asks = {
            "topics:suscribe": topics_ask({"action": "suscribe", "topic_name": "Secret"}),
            "topics:invite": topics_ask({"action": "invite", "topic_name": "Secret", "username": "bob"}),
            "topics:message": topics_ask({"action": "message", "topic_name": "Secret", "content": "hi"}),
            "rooms:connect": rooms_ask("connect_to_room", {"roomName": "Secret"}),
            "rooms:send": rooms_ask("send_message", {"roomName": "Secret", "message": "hi"}),
            "rooms:leave": rooms_ask("disconnect_from_room", {"roomName": "Secret"}),
        }
        hidden = await assert_same_as_missing(live_server, asks)

    assert hidden["topics:suscribe"]["error"]["code"] == "not_found"
    assert hidden["rooms:connect"]["data"]["code"] == "not_found"


async def test_a_member_still_subscribes_to_a_private_topic_as_a_no_op(live_server: LiveServer):
    alice, _bob, _token = await secret_of_alice(live_server)
    data = await alice.ok("topic:subscribe", {"topic": "secret"})
    assert (data["topic"]["name"], data["topic"]["members"]) == ("Secret", 1)
    assert [m["body"] for m in data["history"]] == ["between us"]
