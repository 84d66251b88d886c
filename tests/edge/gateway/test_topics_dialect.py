"""The topics service's clients (``wscat`` with JSON actions) work against Parley (PROTOCOL.md 7.1).

One server for the module (``server``); each test has its own users and topics (``names``).
The tests that change a limit have a server of their own.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect

from db.models import Message, Topic
from tests.edge.gateway.wsclient import JsonSocket, opened, ws_url
from tests.shared_server import Names, own_sockets, shared_server
from tests.support import WAIT, LiveServer, bearer, count_rows, running, send
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    """Roomy rate limits: these tests send hundreds of messages from one socket."""
    async with shared_server(tmp_path_factory, socket_burst=10_000, socket_rate=10_000.0) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest.fixture
def names() -> Names:
    return Names()


def topics_path(token: str) -> str:
    return f"/compat/topics/{token}"


async def connected(socket: JsonSocket, username: str) -> None:
    assert await socket.recv() == {"action": "connected", "ok": True, "data": {"username": username}}


async def reply(socket: JsonSocket, frame: Any) -> dict[str, Any]:
    """Send a frame and return its answer (pushes that come first are skipped)."""
    await socket.send(frame)
    while True:
        value = await socket.recv()
        if "ok" in value:
            return value  # type: ignore[no-any-return]


async def sync(socket: JsonSocket) -> list[dict[str, Any]]:
    """Everything pushed before an answer to a harmless frame: what had arrived by now."""
    await socket.send({"action": "no-such-action"})
    frames = []
    while (value := await socket.recv())["action"] is not None:
        frames.append(value)
    return frames


async def test_a_wscat_session_connects_subscribes_and_talks(live_server: LiveServer, names: Names):
    alice_token = await live_server.register(names.alice)
    bob = await live_server.user(names.bob)
    await bob.ok("topic:create", {"name": names.news})
    async with opened(live_server, topics_path(alice_token)) as alice:
        await connected(alice, names.alice)
        answer = await reply(alice, {"action": "suscribe", "topic_name": names.news})
        assert answer["action"] == "suscribe" and answer["ok"] is True
        assert answer["data"]["topic"]["name"] == names.news and answer["data"]["history"] == []

        answer = await reply(
            alice, {"action": "message", "topic_name": names.news, "content": "hi from wscat"}
        )
        assert answer["ok"] is True and answer["data"]["body"] == "hi from wscat"
        event = await bob.next("message")
        assert (event["topic"], event["sender"], event["body"]) == (names.news, names.alice, "hi from wscat")

        sent = await send(bob, {"topic": names.news, "body": "hi from socket.io"})
        push = await alice.until({"action": "message", "content": "hi from socket.io"})
        assert push == {
            "action": "message",
            "topic_name": names.news,
            "username": names.bob,
            "content": "hi from socket.io",
            "id": sent["id"],
            "seq": sent["seq"],
            "created_at": sent["created_at"],
        }


async def test_create_invite_and_a_direct_message(live_server: LiveServer, names: Names):
    alice_token = await live_server.register(names.alice)
    bob = await live_server.user(names.bob)
    async with opened(live_server, topics_path(alice_token)) as alice:
        await connected(alice, names.alice)
        created = await reply(alice, {"action": "create", "topic_name": names.secret, "is_private": True})
        assert created["data"]["kind"] == "private" and created["data"]["owner"] == names.alice
        invited = await reply(alice, {"action": "invite", "topic_name": names.secret, "username": names.bob})
        assert invited["ok"] is True
        assert (await bob.next("topic:invited"))["by"] == names.alice

        # A name that is no topic but a user: a direct message.
        direct = await reply(alice, {"action": "message", "topic_name": names.bob, "content": "psst"})
        assert direct["data"]["topic"] == "@" + names.bob and direct["data"]["kind"] == "direct"
        event = await bob.next("message")
        assert (event["topic"], event["body"]) == ("@" + names.alice, "psst")

        await send(bob, {"to": names.alice, "body": "hello back"})
        push = await alice.until({"action": "message", "content": "hello back"})
        assert push["topic_name"] == names.bob and push["username"] == names.bob


async def test_an_invitation_is_pushed(live_server: LiveServer, names: Names):
    alice_token = await live_server.register(names.alice)
    bob = await live_server.user(names.bob)
    await bob.ok("topic:create", {"name": names.club, "private": True})
    async with opened(live_server, topics_path(alice_token)) as alice:
        await connected(alice, names.alice)
        await bob.ok("topic:invite", {"topic": names.club, "username": names.alice})
        assert await alice.until({"action": "invited"}) == {
            "action": "invited",
            "topic_name": names.club,
            "by": names.bob,
        }
        # Now a member: the topic's messages reach this socket live.
        await send(bob, {"topic": names.club, "body": "welcome"})
        assert (await alice.until({"action": "message"}))["topic_name"] == names.club


async def test_messages_sent_while_away_are_pushed_on_connect_oldest_first_once(
    live_server: LiveServer, names: Names
):
    alice_token = await live_server.register(names.alice)
    bob = await live_server.user(names.bob)
    await bob.ok("topic:create", {"name": names.news})
    async with opened(live_server, topics_path(alice_token)) as alice:
        await connected(alice, names.alice)
        await reply(alice, {"action": "subscribe", "topic_name": names.news})
    for n in range(5):
        await send(bob, {"topic": names.news, "body": f"news {n}"})
    await send(bob, {"to": names.alice, "body": "a direct one"})

    async with opened(live_server, topics_path(alice_token)) as alice:
        await connected(alice, names.alice)
        pushed = await sync(alice)
        news = [p["content"] for p in pushed if p["topic_name"] == names.news]
        assert news == [f"news {n}" for n in range(5)]
        assert [p["content"] for p in pushed if p["topic_name"] == names.bob] == ["a direct one"]
    await live_server.chat.delivery.flush()

    async with opened(live_server, topics_path(alice_token)) as alice:  # delivered: not again
        await connected(alice, names.alice)
        assert await sync(alice) == []
    socketio_alice = await live_server.connect(names.alice, alice_token)  # nor over Socket.IO
    assert socketio_alice.pending("message") == []
    await socketio_alice.ok("topic:list")
    assert socketio_alice.pending("message") == []


async def test_live_messages_never_overtake_the_backlog(live_server: LiveServer, names: Names):
    """Order on one connection (PROTOCOL.md 4) holds on the gateway: backlog, then live, no gap."""
    alice_token = await live_server.register(names.alice)
    bob = await live_server.user(names.bob)
    await bob.ok("topic:create", {"name": names.busy})
    async with opened(live_server, topics_path(alice_token)) as alice:
        await connected(alice, names.alice)
        await reply(alice, {"action": "subscribe", "topic_name": names.busy})
    for n in range(300):
        await send(bob, {"topic": names.busy, "body": f"old {n}"})

    async def more() -> None:
        for n in range(100):
            await send(bob, {"topic": names.busy, "body": f"new {n}"})

    async with opened(live_server, topics_path(alice_token)) as alice:
        sender = asyncio.create_task(more())
        await connected(alice, names.alice)
        seqs = []
        while len(seqs) < 400:
            seqs.append((await alice.until({"action": "message"}))["seq"])
        await sender
    assert seqs == list(range(1, 401))


async def test_disconnect_is_answered_then_the_server_closes_normally(live_server: LiveServer, names: Names):
    token = await live_server.register(names.alice)
    async with opened(live_server, topics_path(token)) as alice:
        await connected(alice, names.alice)
        await alice.send({"action": "disconnect"})
        assert await alice.recv() == {"action": "disconnect", "ok": True, "data": None}
        assert await alice.closed() == (1000, "")


BAD_FRAMES = [
    pytest.param("not json", None, id="not-json"),
    pytest.param("[1, 2]", None, id="array"),
    pytest.param('"suscribe"', None, id="string"),
    pytest.param({"topic_name": "news"}, None, id="no-action"),
    pytest.param({"action": "launch"}, None, id="unknown-action"),
    pytest.param({"action": 7}, None, id="action-not-text"),
    pytest.param({"action": "suscribe"}, "suscribe", id="subscribe-without-topic"),
    pytest.param({"action": "suscribe", "topic_name": "bad name!"}, "suscribe", id="bad-topic-name"),
    pytest.param({"action": "create", "topic_name": "x" * 65}, "create", id="name-too-long"),
    pytest.param({"action": "message", "topic_name": "news", "content": "  "}, "message", id="blank-content"),
    pytest.param({"action": "message", "topic_name": "news", "content": 5}, "message", id="content-not-text"),
    pytest.param(
        {"action": "message", "topic_name": "news", "content": "\u3164\u2800\u0301"},
        "message",
        id="invisible",
    ),
    pytest.param(
        {"action": "message", "topic_name": "news", "content": "a\u202eb"}, "message", id="bidi-override"
    ),
    pytest.param({"action": "message", "topic_name": "news"}, "message", id="no-content"),
    pytest.param({"action": "invite", "topic_name": "news"}, "invite", id="invite-without-user"),
]


@pytest.mark.parametrize(("frame", "action"), BAD_FRAMES)
async def test_a_bad_frame_is_invalid_changes_nothing_and_the_socket_stays(
    live_server: LiveServer, names: Names, frame: Any, action: str | None
):
    token = await live_server.register(names.alice)
    async with opened(live_server, topics_path(token)) as alice:
        await connected(alice, names.alice)
        before = await count_rows(live_server, Topic, Message)
        answer = await reply(alice, frame)
        assert answer["action"] == action and answer["ok"] is False
        assert answer["error"]["code"] == "invalid" and answer["error"]["message"]
        assert await count_rows(live_server, Topic, Message) == before
        again = await reply(alice, {"action": "create", "topic_name": f"still-here{names.number}"})
        assert again["ok"] is True


async def test_errors_use_the_codes_of_section_2(live_server: LiveServer, names: Names):
    token = await live_server.register(names.alice)
    bob = await live_server.user(names.bob)
    await bob.ok("topic:create", {"name": names.hidden, "private": True})
    await bob.ok("topic:create", {"name": names.open})
    async with opened(live_server, topics_path(token)) as alice:
        await connected(alice, names.alice)
        cases = [
            ({"action": "suscribe", "topic_name": names.nowhere}, "not_found"),
            ({"action": "suscribe", "topic_name": names.hidden}, "not_found"),
            ({"action": "create", "topic_name": names.open}, "conflict"),
            ({"action": "message", "topic_name": names.open, "content": "not a member"}, "forbidden"),
            ({"action": "message", "topic_name": names.hidden, "content": "x"}, "not_found"),
            ({"action": "invite", "topic_name": names.open, "username": names.bob}, "forbidden"),
            ({"action": "invite", "topic_name": "lobby", "username": names.nobody}, "not_found"),
        ]
        for frame, code in cases:
            answer = await reply(alice, frame)
            assert (answer["action"], answer["ok"], answer["error"]["code"]) == (frame["action"], False, code)


@pytest.mark.parametrize(
    ("token", "reason"),
    [("not-a-jwt", "unauthorized"), ("eyJhbGciOiJIUzI1NiJ9.e30.x", "unauthorized")],
)
async def test_a_bad_token_is_closed_with_4401(live_server: LiveServer, token: str, reason: str):
    async with opened(live_server, topics_path(token)) as socket_:
        assert await socket_.closed() == (4401, reason)


async def test_an_expired_or_revoked_token_is_closed_with_4401_and_its_code(
    live_server: LiveServer, names: Names
):
    token = await live_server.register(names.alice)
    old = (await live_server.chat.users.issue_token(names.alice, ttl_seconds=-10)).token
    async with opened(live_server, topics_path(old)) as socket_:
        assert await socket_.closed() == (4401, "token_expired")
    async with opened(live_server, topics_path(token)) as alice:
        await connected(alice, names.alice)
        response = await live_server.http.post("/api/auth/logout", headers=bearer(token))
        assert response.status_code == 204
        assert await alice.closed() == (4401, "token_revoked")  # logout closes it at once
    async with opened(live_server, topics_path(token)) as socket_:
        assert await socket_.closed() == (4401, "token_revoked")


async def test_a_frame_over_the_transport_limit_closes_with_1009(live_server: LiveServer, names: Names):
    token = await live_server.register(names.alice)
    before = await count_rows(live_server, Message)
    async with opened(live_server, topics_path(token)) as alice:
        await connected(alice, names.alice)
        await alice.send({"action": "message", "topic_name": "lobby", "content": "x" * 70_000})
        assert (await alice.closed())[0] == 1009
    assert await count_rows(live_server, Message) == before


async def test_too_many_frames_are_rate_limited_and_the_socket_stays(tmp_path: Path):
    async with running(settings_for(tmp_path / "data", socket_burst=3, socket_rate=0.001)) as live:
        token = await live.register("alice")
        async with opened(live, topics_path(token)) as alice:
            await connected(alice, "alice")
            answers = [await reply(alice, {"action": "suscribe", "topic_name": "lobby"}) for _ in range(5)]
            assert [a["ok"] for a in answers] == [True, True, True, False, False]
            assert answers[-1]["error"]["code"] == "rate_limited"


async def test_a_client_that_stops_reading_is_cut_and_catches_up_on_reconnect(tmp_path: Path):
    settings = settings_for(
        tmp_path / "data", outgoing_queue_bytes=256 * 1024, socket_burst=10_000, socket_rate=10_000.0
    )
    async with running(settings) as live:
        token = await live.register("alice")
        bob = await live.user("bob")
        await bob.ok("topic:create", {"name": "flood"})
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", int(live.url.rsplit(":", 1)[1])))
        async with connect(ws_url(live, topics_path(token)), sock=raw, max_queue=1) as ws:
            stalled = JsonSocket(ws)
            await connected(stalled, "alice")
            await reply(stalled, {"action": "subscribe", "topic_name": "flood"})
            body = "\U0001f600" * 4000
            for _ in range(400):  # ~6.4 MB: past the socket buffers and the bound; alice reads nothing
                await send(bob, {"topic": "flood", "body": body})
            # Cut: the close frame (1013) reaches it only if the server's buffer took it in time.
            assert (await stalled.closed(timeout=15))[0] in (1013, 1006, None)
        await live.chat.delivery.flush()
        async with opened(live, topics_path(token)) as alice:
            await connected(alice, "alice")
            first = (await alice.until({"action": "message"}))["seq"]
            rest = [(await alice.until({"action": "message"}))["seq"] for _ in range(400 - first)]
        # What was written before the cut counts as delivered (PROTOCOL.md 7.1); the rest comes now.
        assert 1 < first <= 400 and [first, *rest] == list(range(first, 401))


async def test_messages_sent_through_the_gateway_are_stored_and_counted_unread(
    live_server: LiveServer, names: Names
):
    token = await live_server.register(names.alice)
    bob_token = await live_server.register(names.bob)
    async with opened(live_server, topics_path(token)) as alice:
        await connected(alice, names.alice)
        assert (await reply(alice, {"action": "create", "topic_name": names.general}))["ok"] is True
        joined = await live_server.http.post(
            f"/api/topics/{names.general}/subscribe", headers=bearer(bob_token)
        )
        assert joined.status_code == 200, joined.text
        for n in range(3):
            await reply(alice, {"action": "message", "topic_name": names.general, "content": f"m{n}"})
    topics = (await live_server.http.get("/api/topics", headers=bearer(bob_token))).json()["topics"]
    general = next(t for t in topics if t["name"] == names.general)
    assert (general["last_seq"], general["unread"]) == (3, 3)
    page = await live_server.http.get(f"/api/topics/{names.general}/messages", headers=bearer(bob_token))
    assert [m["body"] for m in page.json()["messages"]] == ["m0", "m1", "m2"]


async def test_gateway_sockets_count_towards_the_connections_a_user_may_hold(tmp_path: Path):
    async with running(settings_for(tmp_path / "data", max_connections_per_user=1)) as live:
        token = await live.register("alice")
        async with opened(live, topics_path(token)) as first:
            await connected(first, "alice")
            async with opened(live, "/compat/rooms") as second:  # another dialect, same user
                await second.send({"username": "alice"})
                assert (await second.recv())["type"] == "connected"
                await second.send({"token": token, "action": "get_rooms", "args": {}})
                refused = await second.recv()
                assert (refused["statusCode"], refused["data"]["code"]) == ("error", "rate_limited")
            async with opened(live, topics_path(token)) as third:
                assert await third.closed() == (4429, "rate_limited")
            user_id = (await live.chat.users.authenticate(token)).id
        async with asyncio.timeout(WAIT):  # the server notices the first one close
            while live.chat.sessions.connections(user_id):
                await asyncio.sleep(0.01)
        async with opened(live, topics_path(token)) as again:  # room again
            await connected(again, "alice")
