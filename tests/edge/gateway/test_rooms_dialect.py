"""The chat-rooms clients work against Parley (PROTOCOL.md 7.4): rooms are public topics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from db.models import Membership, Message
from tests.edge.gateway.wsclient import JsonSocket, opened
from tests.support import LiveServer, count_rows, send

PATH = "/compat/rooms"


class RoomsClient:
    """The original client: names itself, then sends ``{"token", "action", "args"}``."""

    def __init__(self, socket: JsonSocket, token: str) -> None:
        self.socket = socket
        self.token = token

    async def call(self, action: Any, args: Any = None, token: Any = None) -> dict[str, Any]:
        """The answer to an action (pushes that arrive first are skipped)."""
        frame: dict[str, Any] = {"token": token or self.token, "action": action}
        if args is not None:
            frame["args"] = args
        await self.socket.send(frame)
        return await self.answer(action if isinstance(action, str) else None)

    async def answer(self, kind: str | None) -> dict[str, Any]:
        while True:
            value = await self.socket.recv()
            if value["type"] == kind or (value["statusCode"] == "error" and value["type"] is None):
                return value  # type: ignore[no-any-return]

    async def ok(self, action: str, args: Any = None) -> Any:
        answer = await self.call(action, args)
        assert answer["statusCode"] == "ok", answer
        return answer["data"]

    async def push(self, kind: str) -> Any:
        return (await self.socket.until({"type": kind}))["data"]


@asynccontextmanager
async def rooms_client(server: LiveServer, username: str) -> AsyncIterator[RoomsClient]:
    token = await server.register(username)
    async with opened(server, PATH) as socket:
        await socket.send({"username": username})
        assert await socket.recv() == {
            "statusCode": "ok",
            "type": "connected",
            "data": {"username": username},
        }
        yield RoomsClient(socket, token)


async def test_rooms_are_listed_joined_and_talked_in(live_server: LiveServer):
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "kitchen"})
    async with rooms_client(live_server, "alice") as alice:
        rooms = (await alice.ok("get_rooms", {}))["rooms"]
        assert rooms["kitchen"] == 1 and rooms["lobby"] == 2  # bob's socket, and alice here

        joined = await alice.ok("connect_to_room", {"username": "alice", "roomName": "kitchen"})
        assert joined["roomName"] == "kitchen" and sorted(joined["usernames"]) == ["alice", "bob"]

        sent = await alice.ok("send_message", {"roomName": "kitchen", "message": "tea?"})
        event = await bob.next("message")
        assert (event["topic"], event["sender"], event["body"], event["id"]) == (
            "kitchen",
            "alice",
            "tea?",
            sent["id"],
        )
        assert sent == {
            "roomName": "kitchen",
            "username": "alice",
            "message": "tea?",
            "id": event["id"],
            "created_at": event["created_at"],
        }

        reply = await send(bob, {"topic": "kitchen", "body": "yes please"})
        pushed = await alice.push("message")
        assert (pushed["username"], pushed["message"], pushed["id"]) == ("bob", "yes please", reply["id"])


async def test_others_in_the_room_see_users_join_and_leave(live_server: LiveServer):
    async with rooms_client(live_server, "alice") as alice, rooms_client(live_server, "bob") as bob:
        await alice.ok("connect_to_room", {"roomName": "lobby"})
        await bob.ok("connect_to_room", {"roomName": "lobby"})
        assert await alice.push("user_joined") == {"roomName": "lobby", "username": "bob"}
        left = await bob.ok("disconnect_from_room", {"roomName": "lobby"})
        assert left == {"roomName": "lobby"}
        assert await alice.push("user_left") == {"roomName": "lobby", "username": "bob"}
        # bob left the topic: posting there needs connecting again
        answer = await bob.call("send_message", {"roomName": "lobby", "message": "hello?"})
        assert (answer["statusCode"], answer["data"]["code"]) == ("error", "forbidden")
        await bob.ok("connect_to_room", {"roomName": "lobby"})
        await bob.ok("send_message", {"roomName": "lobby", "message": "back"})
        assert (await alice.push("message"))["message"] == "back"


async def test_an_unknown_user_is_answered_exactly_as_a_known_one_with_a_wrong_token(live_server: LiveServer):
    """Issue 18 item 5: the hello must not tell whether a username exists; only a token proves it."""
    await live_server.register("alice")
    mallory_token = await live_server.register("mallory")
    answers = {}
    for name in ("alice", "nobody"):
        async with opened(live_server, PATH) as socket:
            await socket.send({"username": name})
            hello = await socket.recv()
            await socket.send({"token": mallory_token, "action": "get_rooms", "args": {}})
            refused = await socket.recv()
            await socket.send({"token": "not-a-token", "action": "get_rooms", "args": {}})
            bad = await socket.recv()
            answers[name] = (hello, refused, bad)
    for name, (hello, refused, bad) in answers.items():
        assert hello == {"statusCode": "ok", "type": "connected", "data": {"username": name}}
        assert (refused["statusCode"], refused["type"], refused["data"]["code"]) == (
            "error",
            "get_rooms",
            "unauthorized",
        )
        assert refused["data"]["message"] == f"the token is not {name}'s"
        assert bad["data"]["code"] == "unauthorized"
    assert answers["alice"][2] == answers["nobody"][2]


async def test_a_hello_in_another_case_opens_the_users_session(live_server: LiveServer):
    token = await live_server.register("alice")
    async with opened(live_server, PATH) as socket:
        await socket.send({"username": "ALICE"})
        assert (await socket.recv())["data"] == {"username": "ALICE"}  # as sent: nothing is confirmed
        await socket.send({"token": token, "action": "get_rooms", "args": {}})
        answer = await socket.recv()
        assert answer["statusCode"] == "ok" and "lobby" in answer["data"]["rooms"]


@pytest.mark.parametrize("hello", ["not json", '["alice"]', '{"user": "alice"}', '{"username": 5}'])
async def test_a_bad_first_frame_is_refused_with_4401(live_server: LiveServer, hello: str):
    await live_server.register("alice")
    async with opened(live_server, PATH) as socket:
        await socket.send(hello)
        answer = await socket.recv()
        assert (answer["statusCode"], answer["type"], answer["data"]["code"]) == ("error", None, "invalid")
        assert (await socket.closed())[0] == 4401


async def test_a_token_that_is_not_the_users_is_an_error_and_the_socket_stays(live_server: LiveServer):
    bob_token = await live_server.register("bob")
    async with rooms_client(live_server, "alice") as alice:
        for token in (bob_token, "not-a-token"):  # before the session opened, and after
            answer = await alice.call("get_rooms", {}, token=token)
            assert (answer["statusCode"], answer["type"], answer["data"]["code"]) == (
                "error",
                "get_rooms",
                "unauthorized",
            )
            assert "lobby" in (await alice.ok("get_rooms", {}))["rooms"]


BAD = [
    pytest.param("launch", {}, "launch", "invalid", id="unknown-action"),
    pytest.param(None, {}, None, "invalid", id="no-action"),
    pytest.param("send_message", {"roomName": "lobby"}, "send_message", "invalid", id="missing-message"),
    pytest.param("send_message", {"message": "x"}, "send_message", "invalid", id="missing-room"),
    pytest.param(
        "send_message", {"roomName": "lobby", "message": " "}, "send_message", "invalid", id="blank"
    ),
    pytest.param(
        "send_message", {"roomName": "lobby", "message": "x" * 4001}, "send_message", "invalid", id="long"
    ),
    pytest.param("connect_to_room", {"roomName": "no such!"}, "connect_to_room", "invalid", id="bad-name"),
    pytest.param("connect_to_room", {"roomName": "nowhere"}, "connect_to_room", "not_found", id="no-room"),
    pytest.param(
        "connect_to_room",
        {"roomName": "lobby", "username": "bob"},
        "connect_to_room",
        "forbidden",
        id="someone-else",
    ),
    pytest.param("get_rooms", [1], "get_rooms", "invalid", id="args-not-object"),
]


@pytest.mark.parametrize(("action", "args", "kind", "code"), BAD)
async def test_bad_actions_get_an_error_change_nothing_and_the_socket_stays(
    live_server: LiveServer, action: Any, args: Any, kind: str | None, code: str
):
    await live_server.register("bob")
    async with rooms_client(live_server, "alice") as alice:
        await alice.ok("get_rooms", {})  # the session is open
        before = await count_rows(live_server, Message, Membership)
        answer = await alice.call(action, args)
        assert (answer["statusCode"], answer["type"], answer["data"]["code"]) == ("error", kind, code)
        assert answer["data"]["message"]
        assert await count_rows(live_server, Message, Membership) == before
        await alice.ok("send_message", {"roomName": "lobby", "message": "still here"})


async def test_a_rooms_user_counts_as_online(live_server: LiveServer):
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "den", "private": True})
    async with rooms_client(live_server, "alice") as alice:
        await alice.ok("get_rooms", {})
        await bob.ok("topic:invite", {"topic": "den", "username": "alice"})
        members = (await bob.ok("topic:members", {"topic": "den"}))["members"]
        assert {m["username"]: m["online"] for m in members} == {"bob": True, "alice": True}
