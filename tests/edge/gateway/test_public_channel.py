"""The echo chat's public WebSocket (PROTOCOL.md 7.3): the channel's history, then live, both ways."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from db.models import Message
from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import Target
from tests.edge.gateway.wsclient import JsonSocket, opened
from tests.support import LiveServer, count, running, send
from tests.support import test_settings as settings_for


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", socket_burst=10_000, socket_rate=10_000.0)


def pub(token: str) -> str:
    return f"/compat/echo/ws/pub?token={token}"


async def sync(socket: JsonSocket) -> list[dict[str, Any]]:
    """What arrived before the answer to a blank frame (which is an error, and changes nothing)."""
    await socket.send("   ")
    frames = []
    while "error" not in (value := await socket.recv()):
        frames.append(value)
    assert value["error"]["code"] == "invalid"
    return frames


async def test_connecting_sends_the_history_then_frames_are_messages_both_ways(live_server: LiveServer):
    bob = await live_server.user("bob")
    first = await send(bob, {"topic": "lobby", "body": "before you came"})
    gone = await send(bob, {"topic": "lobby", "body": "deleted"})
    await bob.ok("message:delete", {"id": gone["id"]})
    assert len(bob.pending("message")) == 2  # his own two (each event comes before its ack)
    token = await live_server.register("carol")
    async with opened(live_server, pub(token)) as carol:
        assert await carol.recv() == {
            "username": "bob",
            "content": "before you came",
            "created_at": first["created_at"],
        }
        assert await sync(carol) == []  # the deleted one is left out

        await carol.send("hello, lobby")
        event = await bob.next("message")
        assert (event["topic"], event["sender"], event["body"]) == ("lobby", "carol", "hello, lobby")
        assert (await carol.recv())["content"] == "hello, lobby"  # the channel includes the sender

        await send(bob, {"topic": "lobby", "body": "from socket.io"})
        assert (await carol.recv())["content"] == "from socket.io"


async def test_connecting_subscribes_to_the_public_topic(live_server: LiveServer):
    bob = await live_server.user("bob")
    await bob.ok("topic:unsubscribe", {"topic": "lobby"})
    token = (await live_server.chat.users.issue_token("bob")).token
    async with opened(live_server, pub(token)) as channel:
        await sync(channel)
    members = await bob.ok("topic:members", {"topic": "lobby"})
    assert "bob" in [m["username"] for m in members["members"]]


async def test_two_channel_clients_see_each_other(live_server: LiveServer):
    one, two = await live_server.register("one_"), await live_server.register("two_")
    async with opened(live_server, pub(one)) as first, opened(live_server, pub(two)) as second:
        await sync(first)
        await sync(second)
        await first.send("ping")
        assert (await second.recv())["username"] == "one_"


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param("", id="empty"),
        pytest.param(" \n\t", id="whitespace"),
        pytest.param("x" * 4001, id="too-long"),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays(live_server: LiveServer, frame: str):
    token = await live_server.register("carol")
    async with opened(live_server, pub(token)) as carol:
        await carol.send(frame)
        answer = await carol.recv()
        assert answer["error"]["code"] == "invalid" and answer["error"]["message"]
        await carol.send(b"\x00\x01")
        assert (await carol.recv())["error"]["code"] == "invalid"
        await carol.send("still here")
        assert (await carol.recv())["content"] == "still here"
    assert await count(live_server, Message) == 1


@pytest.mark.parametrize("query", ["", "?token=nope"])
async def test_without_a_valid_token_the_socket_closes_with_4401(live_server: LiveServer, query: str):
    async with opened(live_server, "/compat/echo/ws/pub" + query) as socket_:
        assert (await socket_.closed())[0] == 4401


async def test_the_history_is_the_newest_thousand_and_live_messages_follow_it(tmp_path: Path):
    async with running(settings_for(tmp_path / "data", socket_burst=10_000, socket_rate=10_000.0)) as live:
        await live.register("bob")
        chat = live.chat
        bob = await chat.users.authenticate((await chat.users.issue_token("bob")).token)
        await asyncio.gather(*(say(chat, bob, f"old {n}") for n in range(1010)))
        token = await live.register("carol")

        async def more() -> None:
            for n in range(50):
                await say(chat, bob, f"new {n}")

        async with opened(live, pub(token)) as carol:
            contents = [(await carol.recv())["content"]]  # the history is read: the rest is live
            sender = asyncio.create_task(more())  # while the history is still being written
            contents += [(await carol.recv())["content"] for _ in range(1049)]
            await sender
        old = [c for c in contents if c.startswith("old")]
        assert len(old) == 1000 and contents[1000:] == [f"new {n}" for n in range(50)]


async def say(chat: Any, actor: Actor, body: str) -> None:
    await chat.messages.send(actor, Target(topic="lobby"), body)


async def test_the_public_topic_is_a_setting_and_exists_from_start_up(tmp_path: Path):
    async with running(settings_for(tmp_path / "data", public_topic="town-square")) as live:
        token = await live.register("carol")
        async with opened(live, pub(token)) as carol:
            await carol.send("first words")
            assert (await carol.recv())["content"] == "first words"
        page = await live.http.get(
            "/api/topics/town-square/messages", headers={"Authorization": f"Bearer {token}"}
        )
        assert [m["body"] for m in page.json()["messages"]] == ["first words"]
