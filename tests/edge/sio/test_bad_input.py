"""Bad input: refused with the right code, nothing stored, the socket stays usable (PROTOCOL.md 2, 3).

One server serves the whole table (it is never changed by a bad payload, which
is the point); every case gets a fresh socket, so rate buckets do not carry over.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from db.models import Membership, Message, Topic
from tests.support import PASSWORD, Client, LiveServer, count_rows, running
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

MISSING = object()
"""Send the event with no payload argument at all."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[LiveServer, str]]:
    """alice owns public ``general`` (one message) and private ``secret``; bob exists."""
    data_dir: Path = tmp_path_factory.mktemp("bad-input") / "data"
    async with running(settings_for(data_dir)) as live:
        token = await live.register("alice")
        bob = await live.user("bob")
        alice = await live.connect("alice", token)
        await alice.ok("topic:create", {"name": "general"})
        await alice.ok("topic:create", {"name": "secret", "private": True})
        await alice.ok("message:send", {"topic": "general", "body": "hello"})
        await alice.close()
        await bob.close()
        yield live, token


@pytest_asyncio.fixture(loop_scope="module")
async def alice(server: tuple[LiveServer, str]) -> AsyncIterator[Client]:
    live, token = server
    client = await live.connect("alice", token)
    yield client
    await client.close()


@pytest_asyncio.fixture(loop_scope="module")
async def bob(server: tuple[LiveServer, str]) -> AsyncIterator[Client]:
    live, _ = server
    login = await live.http.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    client = await live.connect("bob", login.json()["token"])
    yield client
    await client.close()


async def row_counts(live: LiveServer) -> dict[str, int]:
    models = (Message, Topic, Membership)
    return dict(zip([model.__name__ for model in models], await count_rows(live, *models), strict=True))


def case(event: str, payload: Any, code: str = "invalid", *, id: str) -> Any:
    return pytest.param(event, payload, code, id=id)


CASES = [
    # Not an object at all.
    case("topic:create", MISSING, id="create-missing-payload"),
    case("topic:subscribe", MISSING, id="subscribe-missing-payload"),
    case("message:send", MISSING, id="send-missing-payload"),
    case("topic:create", ["general"], id="create-list"),
    case("topic:list", [], id="list-list"),
    case("topic:subscribe", "general", id="subscribe-string"),
    case("message:send", 42, id="send-number"),
    case("message:send", ({"topic": "general", "body": "x"}, "extra"), id="send-two-arguments"),
    # Wrong types, no coercion.
    case("topic:subscribe", {"topic": 5}, id="topic-number"),
    case("topic:subscribe", {"topic": None}, id="topic-null"),
    case("topic:subscribe", {"topic": {"$ne": None}}, id="topic-operator-object"),
    case("topic:subscribe", {"topic": ["general"]}, id="topic-list"),
    case("topic:create", {"name": "ok", "private": "yes"}, id="private-string"),
    case("topic:create", {"name": "ok", "private": 1}, id="private-number"),
    case("history", {"topic": "general", "limit": "10"}, id="limit-string"),
    case("history", {"topic": "general", "limit": 10.5}, id="limit-float"),
    case("message:send", {"topic": "general", "body": 5}, id="body-number"),
    case("message:send", {"topic": "general", "body": None}, id="body-null"),
    case("typing", {"topic": "general", "typing": "yes"}, id="typing-string"),
    case("message:edit", {"id": "1", "body": "x"}, id="edit-id-string"),
    case("message:delete", {"id": 0}, id="delete-id-zero"),
    # Names.
    case("topic:create", {"name": "bad name"}, id="name-space"),
    case("topic:create", {"name": "semi;colon"}, id="name-semicolon"),
    case("topic:create", {"name": "caf\u00e9"}, id="name-non-ascii"),
    case("topic:create", {"name": "x" * 65}, id="name-65-chars"),
    case("topic:create", {"name": ""}, id="name-empty"),
    case("topic:create", {}, id="name-missing"),
    case("topic:subscribe", {"topic": "../etc"}, id="topic-slash"),
    case("topic:invite", {"topic": "secret", "username": "ab"}, id="username-too-short"),
    case("topic:invite", {"topic": "secret", "username": "u" * 33}, id="username-too-long"),
    case("topic:invite", {"topic": "secret", "username": "bob smith"}, id="username-space"),
    case("message:send", {"to": "b@b", "body": "x"}, id="to-bad-chars"),
    # Bodies.
    case("message:send", {"topic": "general", "body": ""}, id="body-empty"),
    case("message:send", {"topic": "general", "body": " \t\n\u3000 "}, id="body-whitespace"),
    case("message:send", {"topic": "general", "body": "\u00e9" * 4001}, id="body-4001-code-points"),
    case("message:send", {"topic": "general", "body": "\U0001f600" * 4001}, id="body-4001-emoji"),
    case("message:send", {"topic": "general"}, id="body-missing"),
    case("message:send", {"topic": "general", "body": "x", "client_id": "c" * 65}, id="client-id-65"),
    case("message:send", {"topic": "general", "body": "x", "client_id": ""}, id="client-id-empty"),
    # One text rule for both databases (PostgreSQL refuses NUL in text).
    case("message:send", {"topic": "general", "body": "x", "client_id": "a\x00b"}, id="client-id-nul"),
    case("message:send", {"topic": "general", "body": "x", "client_id": "a\nb"}, id="client-id-newline"),
    case("message:send", {"topic": "general", "body": "a\x00b"}, id="body-nul"),
    case("message:send", {"topic": "general", "body": "a\x07b"}, id="body-bell"),
    case("message:send", {"topic": "general", "body": "\u200b\u200b"}, id="body-zero-width-spaces"),
    case("message:send", {"topic": "general", "body": "\u200d\ufeff\u2060 \u200e"}, id="body-invisible"),
    case("message:edit", {"id": 1, "body": "\u200b"}, id="edit-body-zero-width"),
    # Blank-looking letters and marks alone, and bidi overrides anywhere (issue 18, item 6).
    case("message:send", {"topic": "general", "body": "\u3164\u3164"}, id="body-hangul-filler"),
    case("message:send", {"topic": "general", "body": "\u2800 \u2800"}, id="body-braille-blank"),
    case("message:send", {"topic": "general", "body": "\u0301\u0308\u20dd"}, id="body-combining-only"),
    case("message:send", {"topic": "general", "body": "\u115f\u1160\uffa0"}, id="body-other-fillers"),
    case("message:send", {"topic": "general", "body": "invoice\u202efdp.exe"}, id="body-rlo"),
    case("message:send", {"topic": "general", "body": "a\u202ab"}, id="body-lre"),
    case("message:send", {"topic": "general", "body": "a\u2066b\u2069"}, id="body-isolate"),
    case("message", {"topic_name": "general", "content": "\u3164"}, id="legacy-hangul-filler"),
    case("message", {"topic_name": "general", "content": "hi \u202e"}, id="legacy-rlo"),
    case("message:edit", {"id": 1, "body": "\u2800"}, id="edit-braille-blank"),
    case("message:edit", {"id": 1, "body": "ok\u2068"}, id="edit-isolate"),
    # Targets.
    case("message:send", {"topic": "general", "to": "bob", "body": "x"}, id="send-topic-and-to"),
    case("message:send", {"body": "x"}, id="send-no-target"),
    case("history", {"topic": "general", "with": "bob"}, id="history-topic-and-with"),
    case("history", {}, id="history-no-target"),
    case("message:send", {"to": "alice", "body": "me"}, id="send-to-self"),
    # Numbers out of range.
    case("history", {"topic": "general", "limit": 0}, id="limit-0"),
    case("history", {"topic": "general", "limit": 201}, id="limit-201"),
    case("history", {"topic": "general", "before_seq": -1}, id="before-seq-negative"),
    case("delivered", {"topic": "general", "seq": -1}, id="delivered-seq-negative"),
    case("read", {"topic": "general", "seq": -5}, id="read-seq-negative"),
    case("delivered", {"topic": "general", "seq": "3"}, id="delivered-seq-string"),
    case("delivered", {"topic": "general", "seq": 2**63}, id="delivered-seq-huge"),
    # Past a signed 64-bit column: invalid, never an OverflowError in the driver.
    case("message:edit", {"id": 2**63, "body": "x"}, id="edit-id-2-63"),
    case("message:delete", {"id": 2**63}, id="delete-id-2-63"),
    case("message:delete", {"id": 2**64 - 1}, id="delete-id-2-64-minus-1"),
    case("history", {"topic": "general", "before_seq": 2**63}, id="before-seq-2-63"),
    case("read", {"topic": "general", "seq": 2**64 - 1}, id="read-seq-2-64-minus-1"),
    case("topic:members", {"topic": "general", "query": ""}, id="members-empty-query"),
    case("topic:members", {"topic": "general", "query": "x" * 65}, id="members-query-too-long"),
    case("topic:members", {"topic": "general", "query": 7}, id="members-query-not-text"),
    case("topic:members", {"topic": "general", "limit": 0}, id="members-limit-zero"),
    case("topic:members", {"topic": "general", "limit": 201}, id="members-limit-over-200"),
    # Events the server does not handle.
    case("no-such-event", {}, id="unknown-event"),
    case("topic:destroy", {"topic": "general"}, id="unknown-event-lookalike"),
    case("connect", {}, id="reserved-connect"),
    case("disconnect", {}, id="reserved-disconnect"),
    case("disconnecting", {}, id="reserved-disconnecting"),
    # Well-formed but refused: the named code, and still nothing changes.
    case("topic:create", {"name": "GENERAL"}, "conflict", id="create-existing"),
    case("topic:subscribe", {"topic": "nowhere"}, "not_found", id="subscribe-unknown"),
    case("topic:invite", {"topic": "secret", "username": "nobody"}, "not_found", id="invite-unknown-user"),
    case("message:send", {"to": "nobody", "body": "x"}, "not_found", id="send-unknown-user"),
]


@pytest.mark.parametrize(("event", "payload", "code"), CASES)
async def test_alice_is_refused_and_nothing_changes(server, alice, event, payload, code):
    live, _ = server
    before = await row_counts(live)

    ack = await (alice.call(event) if payload is MISSING else alice.call(event, payload))

    assert ack["ok"] is False, ack
    assert set(ack) == {"ok", "error"} and set(ack["error"]) == {"code", "message"}
    assert ack["error"]["code"] == code, ack
    assert isinstance(ack["error"]["message"], str) and ack["error"]["message"]
    assert alice.connected
    assert "topics" in await alice.ok("topic:list", {})
    assert await row_counts(live) == before


BOB_CASES = [
    case("message:send", {"topic": "secret", "body": "x"}, "not_found", id="send-private-non-member"),
    case("message:send", {"topic": "general", "body": "x"}, "forbidden", id="send-public-unsubscribed"),
    case("topic:subscribe", {"topic": "secret"}, "not_found", id="subscribe-private"),
    case("topic:invite", {"topic": "secret", "username": "bob"}, "not_found", id="invite-non-member"),
    case("history", {"topic": "secret"}, "not_found", id="history-private"),
    case("topic:members", {"topic": "secret"}, "not_found", id="members-private"),
    case("message:delete", {"id": 1}, "forbidden", id="delete-others-message"),
    case("message:edit", {"id": 1, "body": "mine now"}, "forbidden", id="edit-others-message"),
]


@pytest.mark.parametrize(("event", "payload", "code"), BOB_CASES)
async def test_bob_is_refused_and_nothing_changes(server, bob, event, payload, code):
    live, _ = server
    before = await row_counts(live)

    ack = await bob.call(event, payload)

    assert ack["ok"] is False and ack["error"]["code"] == code, ack
    assert "topics" in await bob.ok("topic:list", {})
    assert await row_counts(live) == before


async def test_a_reserved_event_without_an_ack_is_ignored_and_the_socket_still_works(server, alice):
    await alice.sio.emit("disconnect", {})
    await alice.sio.emit("connect", {})

    sent = await alice.ok("message:send", {"topic": "lobby", "body": "still here"})

    assert await alice.next("message") == (await alice.ok("history", {"topic": "general"}))["messages"][0]
    assert (await alice.next("message"))["id"] == sent["id"]  # after the backlog of this new socket
    assert alice.pending("session") == []


async def test_the_table_left_the_stored_message_as_it_was(server, alice):
    page = await alice.ok("history", {"topic": "general"})
    assert [(m["body"], m["edited_at"]) for m in page["messages"]] == [("hello", None)]


# Frames a JSON encoder would not produce for Python, but other clients send ------


async def call_raw(client: Client, frame: str) -> asyncio.Future[Any]:
    """Send ``frame`` (the JSON after the packet type and ack id) as an event; the future gets the ack."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    ack_id = client.sio._generate_ack_id("/", lambda *args: future.set_result(args[0]))
    await client.sio.eio.send(f"2{ack_id}{frame}")
    return future


async def test_an_integer_beyond_64_bits_is_invalid(server, alice):
    live, _ = server
    before = await row_counts(live)

    ack = await asyncio.wait_for(
        await call_raw(alice, '["delivered",{"topic":"general","seq":1180591620717411303424}]'), 5
    )

    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    assert await row_counts(live) == before


# An event whose JSON cannot be decoded (a lone surrogate, NaN, truncated) is an
# undecodable packet: it closes the connection (PROTOCOL.md 5a), see test_engineio.py.
