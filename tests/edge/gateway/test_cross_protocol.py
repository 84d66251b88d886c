"""Every dialect and Socket.IO in one topic and one conversation: each sees the others (PROTOCOL.md 7).

One public topic (``lobby``, also the echo chat's public channel) with a Socket.IO user, a
wscat (topics) user, a rooms user and a public-channel user; and one direct conversation
between a messenger user and the others. Each message sent on one side arrives on every
other, with edits and typing where the dialect has them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.edge.gateway.test_messenger_rest import M, conversation, post, sign_up
from tests.edge.gateway.test_messenger_ws import messenger
from tests.edge.gateway.wsclient import opened
from tests.support import LiveServer, bearer, send
from tests.support import test_settings as settings_for


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", typing_ttl=30.0)


async def test_four_dialects_and_socketio_in_one_topic(live_server: LiveServer):
    sio = await live_server.user("sio_user")
    tokens = {name: await live_server.register(name) for name in ("wscat_user", "rooms_user", "pub_user")}
    async with (
        opened(live_server, f"/compat/topics/{tokens['wscat_user']}") as wscat,
        opened(live_server, "/compat/rooms") as rooms,
        opened(live_server, f"/compat/echo/ws/pub?token={tokens['pub_user']}") as pub,
    ):
        assert (await wscat.recv())["action"] == "connected"
        await rooms.send({"username": "rooms_user"})
        assert (await rooms.recv())["type"] == "connected"
        await rooms.send(
            {"token": tokens["rooms_user"], "action": "connect_to_room", "args": {"roomName": "lobby"}}
        )
        assert (await rooms.until({"type": "connect_to_room"}))["statusCode"] == "ok"

        async def everyone_sees(body: str, sender: str) -> None:
            if sender != "sio_user":
                event = await sio.next("message")
                assert (event["sender"], event["body"]) == (sender, body)
            pushed = await wscat.until({"action": "message", "content": body})
            assert (pushed["topic_name"], pushed["username"]) == ("lobby", sender)
            assert (await rooms.until({"type": "message"}))["data"]["message"] == body
            assert (await pub.until({"content": body}))["username"] == sender

        first = await send(sio, {"topic": "lobby", "body": "from socket.io"})
        assert [m["id"] for m in sio.pending("message")] == [first["id"]]
        await everyone_sees("from socket.io", "sio_user")

        await wscat.send({"action": "message", "topic_name": "lobby", "content": "from wscat"})
        await everyone_sees("from wscat", "wscat_user")

        await rooms.send(
            {
                "token": tokens["rooms_user"],
                "action": "send_message",
                "args": {"roomName": "lobby", "message": "from rooms"},
            }
        )
        await everyone_sees("from rooms", "rooms_user")

        await pub.send("from the public channel")
        await everyone_sees("from the public channel", "pub_user")

        # Socket.IO users see the others' messages in seq order, gapless.
        history = await sio.ok("history", {"topic": "lobby"})
        assert [m["seq"] for m in history["messages"]] == [1, 2, 3, 4]


async def test_a_direct_conversation_across_the_messenger_wscat_and_socketio(live_server: LiveServer):
    msg_token = await sign_up(live_server, "msg_user")
    sio = await live_server.user("sio_user")
    wscat_token = await live_server.register("wscat_user")
    with_sio = await conversation(live_server, msg_token, "sio_user")
    with_wscat = await conversation(live_server, msg_token, "wscat_user")
    async with (
        messenger(live_server, msg_token) as msg,
        opened(live_server, f"/compat/topics/{wscat_token}") as wscat,
    ):
        assert (await wscat.recv())["action"] == "connected"

        # Socket.IO -> messenger, and back; an edit from the messenger reaches Socket.IO.
        sent = await send(sio, {"to": "msg_user", "body": "hello messenger"})
        assert (await msg.until({"Message": "New Message"}))["Data"]["MessageId"] == sent["id"]
        reply_id = await post(live_server, msg_token, with_sio, "hello socket.io")
        event = await sio.next("message")
        while event["body"] != "hello socket.io":  # his own message comes back to him first
            event = await sio.next("message")
        assert (event["id"], event["topic"], event["sender"]) == (reply_id, "@msg_user", "msg_user")
        edited = await live_server.http.put(
            f"{M}/message",
            json={"MessageId": reply_id, "Message": "hello, socket.io"},
            headers=bearer(msg_token),
        )
        assert edited.status_code == 200
        assert (await sio.next("message:edited"))["body"] == "hello, socket.io"

        # Typing both ways.
        await sio.ok("typing", {"to": "msg_user", "typing": True})
        assert await msg.until({"Message": "Typing"}) == {
            "User": "sio_user",
            "Message": "Typing",
            "ConvId": with_sio,
        }
        await msg.send({"User": "msg_user", "Message": "Typing", "ConvId": with_sio})
        assert (await sio.next("typing"))["username"] == "msg_user"

        # wscat -> messenger (a topic_name that names a user), and back.
        await wscat.send({"action": "message", "topic_name": "msg_user", "content": "hello from wscat"})
        new = await msg.until({"Message": "New Message"})
        assert (new["Data"]["ConversationId"], new["Data"]["Sender"]) == (with_wscat, "wscat_user")
        await post(live_server, msg_token, with_wscat, "hello wscat")
        pushed = await wscat.until({"action": "message", "content": "hello wscat"})
        assert (pushed["topic_name"], pushed["username"]) == ("msg_user", "msg_user")
