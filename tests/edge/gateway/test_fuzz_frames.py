"""Hypothesis over every gateway dialect's frames (PROTOCOL.md 7): any frame gets the dialect's answer.

For any JSON frame, and objects with an action's keys holding odd values, the topics and rooms
dialects answer in their own shape with a code of section 2, never ``internal``; the public
channel answers a refused frame with ``{"error"}``; the messenger answers one with ``{"Message",
"Data": null}``. The socket stays open and served, a refusal stores nothing, nothing logs a
traceback. One server for the module; each dialect keeps one socket across examples.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from db.models import Membership, Message, Topic, User
from tests import fuzz
from tests.edge.gateway.wsclient import JsonSocket, opened
from tests.edge.sio.logs import Records, captured
from tests.support import LiveServer, count_rows, running
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")
MODELS = (User, Topic, Membership, Message)
TOPIC = {"topic_name": "topic", "topic": "topic"}
TOPICS_ACTIONS: dict[str, dict[str, str]] = {
    "suscribe": TOPIC,
    "subscribe": TOPIC,
    "create": {"is_private": "bool", "name": "topic", **TOPIC},
    "invite": {"username": "user", **TOPIC},
    "message": {"content": "body", "client_id": "client_id", **TOPIC},
}
ROOM = {"roomName": "topic"}
ROOMS_ACTIONS: dict[str, dict[str, str]] = {
    "get_rooms": {},
    "connect_to_room": {"username": "user", **ROOM},
    "send_message": {"message": "body", **ROOM},
    "disconnect_from_room": ROOM,
}
ROOM_PUSHES = {"message", "user_joined", "user_left"}


class Sockets:
    def __init__(self, live: LiveServer, logged: Records, token: str, sockets: dict[str, JsonSocket]) -> None:
        self.live = live
        self.logged = logged
        self.token = token
        self.sockets = sockets

    async def rows(self) -> tuple[int, ...]:
        return await count_rows(self.live, *MODELS)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sockets]:
    data_dir = tmp_path_factory.mktemp("fuzz-frames") / "data"
    limits = {"socket_burst": 1_000_000, "socket_rate": 1_000_000.0}
    with captured() as logged:
        async with running(settings_for(data_dir, **limits)) as live, AsyncExitStack() as stack:
            token = await live.register("alice")
            await live.register("bob")
            paths = {
                "topics": f"/compat/topics/{token}",
                "rooms": "/compat/rooms",
                "pub": f"/compat/echo/ws/pub?token={token}",
                "messenger": "/compat/messenger/websocket",
            }
            sockets = {
                name: await stack.enter_async_context(opened(live, path)) for name, path in paths.items()
            }
            assert (await sockets["topics"].recv())["action"] == "connected"
            await sockets["rooms"].send({"username": "alice"})
            assert (await sockets["rooms"].recv())["type"] == "connected"
            assert await sockets["messenger"].recv() == {"Message": "Websocket Open"}
            await sockets["messenger"].send(token)
            assert await sockets["messenger"].recv() == {"Message": "Websocket Authenticated"}
            yield Sockets(live, logged, token, sockets)


def frames(actions: dict[str, dict[str, str]], shape: Any) -> st.SearchStrategy[Any]:
    """A known action with odd fields, or any JSON at all."""
    known = st.sampled_from(sorted(actions)).flatmap(
        lambda action: shape(action, fuzz.payloads(actions[action]))
    )
    return known | fuzz.json_values()


TOPICS_FRAMES = frames(
    TOPICS_ACTIONS, lambda action, p: p.map(lambda p: {"action": action, **p} if isinstance(p, dict) else p)
)


def assert_error(error: Any) -> None:
    assert isinstance(error, dict) and set(error) == {"code", "message"}, error
    assert error["code"] in fuzz.CODES - {"internal"} and error["message"], error


async def check(server: Sockets, name: str, frame: Any, answer_of: Any, marks: int = 0) -> None:
    """Send ``frame``; ``answer_of`` reads the answer and says whether it was a refusal (after
    storing ``marks`` messages of its own)."""
    socket = server.sockets[name]
    before, tracebacks = await server.rows(), len(server.logged.tracebacks())
    await socket.send(frame if isinstance(frame, str) else json.dumps(frame))
    refused = await answer_of(socket)
    if refused:
        assert await server.rows() == (*before[:3], before[3] + marks)
    assert server.logged.tracebacks()[tracebacks:] == []


async def topics_answer(socket: JsonSocket) -> bool:
    while "ok" not in (answer := await socket.recv()):
        pass
    assert answer["ok"] in (True, False) and set(answer) == {
        "action",
        "ok",
        "data" if answer["ok"] else "error",
    }
    if not answer["ok"]:
        assert_error(answer["error"])
    return not answer["ok"]


@given(frame=TOPICS_FRAMES)
async def test_the_topics_dialect_answers_every_frame(server, frame):
    if isinstance(frame, dict) and frame.get("action") == "disconnect":
        return
    await check(server, "topics", frame, topics_answer)


def rooms_frames(token: str) -> st.SearchStrategy[Any]:
    return frames(
        ROOMS_ACTIONS,
        lambda action, p: p.map(lambda p: {"token": token, "action": action, "args": p}),
    )


async def rooms_answer(socket: JsonSocket) -> bool:
    while (answer := await socket.recv())["statusCode"] == "ok" and answer["type"] in ROOM_PUSHES:
        pass
    assert set(answer) == {"statusCode", "type", "data"} and answer["statusCode"] in ("ok", "error"), answer
    if answer["statusCode"] == "error":
        assert_error(answer["data"])
    return answer["statusCode"] == "error"


@given(data=st.data())
async def test_the_rooms_dialect_answers_every_frame(server, data):
    frame = data.draw(rooms_frames(server.token), label="frame")
    await check(server, "rooms", frame, rooms_answer)


class PublicRound:
    """A message marked with a number ends each round: what came before it answered the frame."""

    rounds = 0

    async def __call__(self, socket: JsonSocket) -> bool:
        PublicRound.rounds += 1
        marker = f"round {PublicRound.rounds}"
        await socket.send(marker)
        refused = False
        while (value := await socket.recv()).get("content") != marker:
            if "error" in value:
                assert_error(value["error"])
                refused = True
            else:
                assert set(value) == {"username", "content", "created_at"}, value
        return refused


@given(text=fuzz.text() | fuzz.long_text())
async def test_the_public_channel_answers_every_frame(server, text):
    await check(server, "pub", text, PublicRound(), marks=1)


async def messenger_answer(socket: JsonSocket) -> bool:
    answer = await socket.recv()
    while answer.get("Message") in ("New Message", "Typing"):
        answer = await socket.recv()
    assert set(answer) == {"Message", "Data"} and answer["Data"] is None and answer["Message"], answer
    return True


@given(frame=fuzz.json_values())
async def test_the_messenger_socket_answers_every_frame(server, frame):
    if isinstance(frame, dict) and any(str(v) == "Typing" for v in frame.values()):
        return  # a typing frame for a real conversation is relayed, not answered
    await check(server, "messenger", frame, messenger_answer)
