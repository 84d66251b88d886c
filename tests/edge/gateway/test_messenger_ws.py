"""The messenger's WebSocket (PROTOCOL.md 7.2): first frame the token, then its conversations live."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.edge.gateway.test_messenger_rest import M, conversation, post, sign_up
from tests.edge.gateway.wsclient import JsonSocket, opened
from tests.support import LiveServer, bearer, send

PATH = "/compat/messenger/websocket"


@asynccontextmanager
async def messenger(server: LiveServer, token: str, as_json: bool = False) -> AsyncIterator[JsonSocket]:
    async with opened(server, PATH) as socket:
        assert await socket.recv() == {"Message": "Websocket Open"}
        await socket.send(json.dumps(token) if as_json else token)
        assert await socket.recv() == {"Message": "Websocket Authenticated"}
        yield socket


@pytest.mark.parametrize("as_json", [False, True], ids=["raw-token", "json-string-token"])
async def test_new_edited_and_deleted_messages_are_pushed(live_server: LiveServer, as_json: bool):
    alice = await sign_up(live_server, "alice")
    bob = await sign_up(live_server, "bob")
    cid = await conversation(live_server, alice, "bob")
    async with messenger(live_server, alice, as_json) as socket:
        mid = await post(live_server, bob, cid, "hi alice")
        new = await socket.recv()
        assert new["Message"] == "New Message"
        assert {
            k: new["Data"][k] for k in ("MessageId", "ConversationId", "Sender", "Message", "Edited")
        } == {
            "MessageId": mid,
            "ConversationId": cid,
            "Sender": "bob",
            "Message": "hi alice",
            "Edited": None,
        }
        edited = await live_server.http.put(
            f"{M}/message", json={"MessageId": mid, "Message": "hi!"}, headers=bearer(bob)
        )
        assert edited.status_code == 200, edited.text
        pushed = await socket.recv()
        assert (pushed["Message"], pushed["Data"]["Message"]) == ("Message Edited", "hi!")
        assert pushed["Data"]["Edited"] is not None
        deleted = await live_server.http.delete(f"{M}/message/{mid}", headers=bearer(bob))
        assert deleted.status_code == 200, deleted.text
        gone = await socket.recv()
        assert (gone["Message"], gone["Data"]["MessageId"], gone["Data"]["ConversationId"]) == (
            "Message Deleted",
            mid,
            cid,
        )


async def test_socketio_direct_messages_and_typing_reach_the_messenger_and_back(live_server: LiveServer):
    alice = await sign_up(live_server, "alice")
    bob = await live_server.user("bob")
    cid = await conversation(live_server, alice, "bob")
    async with messenger(live_server, alice) as socket:
        sent = await send(bob, {"to": "alice", "body": "from socket.io"})
        new = await socket.recv()
        assert (new["Data"]["MessageId"], new["Data"]["ConversationId"]) == (sent["id"], cid)

        await bob.ok("typing", {"to": "alice", "typing": True})
        assert await socket.recv() == {"User": "bob", "Message": "Typing", "ConvId": cid}

        await socket.send({"User": "alice", "Message": "Typing", "ConvId": cid})
        assert await bob.next("typing") == {"topic": "@alice", "username": "alice", "typing": True}


async def test_typing_is_relayed_between_two_messenger_clients_as_sent(live_server: LiveServer):
    alice, bob = await sign_up(live_server, "alice"), await sign_up(live_server, "bob")
    cid = await conversation(live_server, alice, "bob")
    async with messenger(live_server, alice) as first, messenger(live_server, bob) as second:
        await first.send({"User": "alice", "Message": "Typing", "ConvId": cid})
        assert await second.recv() == {"User": "alice", "Message": "Typing", "ConvId": cid}
        # The typer is the authenticated user, whatever the frame claims.
        await first.send({"user": "mallory", "message": "Typing", "convid": cid})
        assert await second.recv() == {"User": "alice", "Message": "Typing", "ConvId": cid}


async def test_topic_messages_are_not_pushed_to_the_messenger(live_server: LiveServer):
    alice = await sign_up(live_server, "alice")
    bob = await live_server.user("bob")
    async with messenger(live_server, alice) as socket:
        await send(bob, {"topic": "lobby", "body": "not for the messenger"})
        await send(bob, {"to": "alice", "body": "for the messenger"})
        assert (await socket.recv())["Data"]["Message"] == "for the messenger"


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param({"User": "alice", "Message": "Typing", "ConvId": 999_999}, id="unknown-conversation"),
        pytest.param({"User": "alice", "Message": "Typing", "ConvId": "1"}, id="conv-id-not-int"),
        pytest.param({"User": "alice", "Message": "Dancing", "ConvId": 1}, id="not-typing"),
        pytest.param("not json", id="not-json"),
    ],
)
async def test_a_bad_frame_is_answered_and_the_socket_stays(live_server: LiveServer, frame: object):
    alice, bob = await sign_up(live_server, "alice"), await sign_up(live_server, "bob")
    cid = await conversation(live_server, alice, "bob")
    async with messenger(live_server, alice) as socket:
        await socket.send(frame)
        answer = await socket.recv()
        assert answer["Data"] is None and answer["Message"]
        await post(live_server, bob, cid, "still here")
        assert (await socket.recv())["Message"] == "New Message"


async def test_someone_elses_conversation_is_not_found_like_a_missing_one(live_server: LiveServer):
    alice, bob, _carol = [await sign_up(live_server, name) for name in ("alice", "bob", "carol")]
    theirs = await conversation(live_server, bob, "carol")
    async with messenger(live_server, alice) as socket:
        await socket.send({"User": "alice", "Message": "Typing", "ConvId": theirs})
        hidden = await socket.recv()
        await socket.send({"User": "alice", "Message": "Typing", "ConvId": 999_999})
        missing = await socket.recv()
    assert hidden["Message"].replace(str(theirs), "N") == missing["Message"].replace("999999", "N")


@pytest.mark.parametrize("token", ["", "nope", '"nope"', "{}"])
async def test_a_bad_first_frame_closes_with_4401(live_server: LiveServer, token: str):
    async with opened(live_server, PATH) as socket:
        assert await socket.recv() == {"Message": "Websocket Open"}
        await socket.send(token)
        assert (await socket.closed())[0] == 4401
