"""Hypothesis over every Socket.IO event (PROTOCOL.md 2, 3, 5): any payload gets an envelope.

For any JSON payload, and objects with the event's keys holding odd values, every event
answers ``{"ok": true, "data"}`` or ``{"ok": false, "error": {"code", "message"}}`` with a
code of section 2, never ``internal``; the sender stays connected and served; a refusal
stores nothing; nothing logs a traceback. ``echo`` acks its payload as is.

One server for the module (its state drifts as valid payloads succeed, which the property
allows); each example takes a connected socket, reconnecting one a failing example closed.
Rate limits are raised so the fuzz reaches the handlers.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from db.models import Ban, EchoTranscript, Membership, Mention, Message, Pin, Reaction, Topic, User
from tests import fuzz
from tests.edge.sio.logs import Records, captured
from tests.support import WAIT, Client, LiveServer, running
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")
TARGETED = 10  # examples for a property about one field (the profile sets the broad ones)

ECHO = "/echo"
# Each event's keys (aliases included) and the kind of value each takes (tests/fuzz.py).
TOPIC = {"topic": "topic", "topic_name": "topic"}
EVENTS: dict[str, dict[str, str]] = {
    "topic:create": {"name": "topic", "private": "bool", "is_private": "bool", **TOPIC},
    "topic:subscribe": TOPIC,
    "topic:unsubscribe": TOPIC,
    "topic:invite": {"username": "user", **TOPIC},
    "topic:list": {},
    "topic:members": TOPIC,
    "message:send": {
        "to": "user",
        "body": "body",
        "client_id": "client_id",
        "reply_to": "int",
        "thread": "int",
        **TOPIC,
    },
    "message:edit": {"id": "int", "body": "body"},
    "message:delete": {"id": "int"},
    "history": {"with": "user", "before_seq": "int", "limit": "int", **TOPIC},
    "typing": {"to": "user", "typing": "bool", **TOPIC},
    "read": {"with": "user", "seq": "int", **TOPIC},
    "delivered": {"with": "user", "seq": "int", **TOPIC},
    "subscribe": TOPIC,
    "suscribe": TOPIC,
    "create": {"name": "topic", "is_private": "bool", **TOPIC},
    "invite": {"username": "user", **TOPIC},
    "message": {"content": "body", "body": "body", "client_id": "client_id", **TOPIC},
    # Conversations (section 8) and moderation (section 10).
    "reaction:add": {"id": "int", "emoji": "body"},
    "reaction:remove": {"id": "int", "emoji": "body"},
    "thread:history": {"root": "int", "before_id": "int", "limit": "int"},
    "topic:notify": {"level": "body", "with": "user", **TOPIC},
    "message:pin": {"id": "int"},
    "message:unpin": {"id": "int"},
    "topic:pins": {"with": "user", **TOPIC},
    "topic:role": {"username": "user", "role": "body", **TOPIC},
    "topic:kick": {"username": "user", "reason": "body", **TOPIC},
    "topic:ban": {"username": "user", "reason": "body", "minutes": "int", **TOPIC},
    "topic:unban": {"username": "user", **TOPIC},
    "topic:mute": {"username": "user", "minutes": "int", **TOPIC},
    "topic:unmute": {"username": "user", **TOPIC},
    "topic:update": {"name": "topic", "description": "body", **TOPIC},
    "topic:archive": TOPIC,
    "topic:unarchive": TOPIC,
    "auth:refresh": {"token": "body"},  # any string that is not the user's valid token: unauthorized
    # Search (section 9).
    "search": {"q": "body", "with": "user", "limit": "int", "cursor": "body", **TOPIC},
}
MODELS = (User, Topic, Membership, Message, EchoTranscript, Reaction, Mention, Pin, Ban)
# Every model's row count in one statement: read before and after each of the ~1,300 examples, nine
# statements a read were most of the module's time.
ROWS = select(*(select(func.count()).select_from(model).scalar_subquery() for model in MODELS))


class Fuzz:
    """The module's server, a socket per user and namespace, and what the server logs."""

    def __init__(self, live: LiveServer, tokens: dict[str, str], logged: Records) -> None:
        self.live = live
        self.tokens = tokens
        self.logged = logged
        self.sockets: dict[tuple[str, str], Client] = {}

    async def socket(self, who: str, namespace: str = "/") -> Client:
        client = self.sockets.get((who, namespace))
        if client is None or not client.connected:
            chat = namespace == "/"
            client = await self.live.connect(who, self.tokens[who], wait_session=chat, namespaces=[namespace])
            self.sockets[who, namespace] = client
        return client

    async def rows(self) -> tuple[int, ...]:
        """How many rows each of ``MODELS`` has, in the server's database."""
        async with self.live.chat.db.read() as repos:
            return tuple((await repos.session.execute(ROWS)).one())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fuzz]:
    """alice owns public ``general`` (bob subscribed) and private ``secret``, one message in each."""
    data_dir = tmp_path_factory.mktemp("fuzz-events") / "data"
    limits = {"socket_burst": 1_000_000, "socket_rate": 1_000_000.0}
    with captured() as logged:
        async with running(settings_for(data_dir, **limits)) as live:
            tokens = {name: await live.register(name) for name in ("alice", "bob")}
            fuzz = Fuzz(live, tokens, logged)
            alice, bob = await fuzz.socket("alice"), await fuzz.socket("bob")
            await alice.ok("topic:create", {"name": "general"})
            await alice.ok("topic:create", {"name": "secret", "private": True})
            await bob.ok("topic:subscribe", {"topic": "general"})
            await alice.ok("message:send", {"topic": "general", "body": "hello"})
            await alice.ok("message:send", {"topic": "secret", "body": "hush"})
            yield fuzz


def assert_envelope(ack: Any) -> None:
    """Section 2: one object, success or an error with a known code; never ``internal``."""
    assert isinstance(ack, dict) and ack.get("ok") in (True, False), ack
    if ack["ok"]:
        assert set(ack) == {"ok", "data"} and isinstance(ack["data"], dict), ack
        return
    assert set(ack) == {"ok", "error"} and set(ack["error"]) == {"code", "message"}, ack
    assert ack["error"]["code"] in fuzz.CODES - {"internal"}, ack
    assert isinstance(ack["error"]["message"], str) and ack["error"]["message"], ack


async def answer(server: Fuzz, who: str, event: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """Send ``event`` with ``args``; check the envelope, the stored rows, the socket and the log."""
    client = await server.socket(who)
    before, tracebacks = await server.rows(), len(server.logged.tracebacks())

    ack = await client.sio.call(event, args, timeout=WAIT)

    assert_envelope(ack)
    if not ack["ok"]:
        assert await server.rows() == before, ack
    assert client.connected
    assert (await client.call("fuzz:still-there", {}))["error"]["code"] == "invalid"  # served, cheaply
    assert server.logged.tracebacks()[tracebacks:] == []
    return ack


def arguments(fields: dict[str, str]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Usually one payload; sometimes none, or one too many."""
    payload = fuzz.payloads(fields)
    return st.one_of(payload.map(lambda p: (p,)), st.just(()), st.tuples(payload, fuzz.odd()))


@functools.cache
def arguments_of(event: str) -> st.SearchStrategy[tuple[Any, ...]]:
    """``event``'s arguments, built once and when first drawn (all of them at import cost every
    process that collects the module, each xdist worker, ~2 s of CPU)."""
    return arguments(EVENTS[event])


@functools.cache
def spoilt(event: str) -> st.SearchStrategy[dict[str, Any]]:
    return fuzz.with_lone_surrogate(EVENTS[event])


USERS = st.sampled_from(["alice", "bob"])


@pytest.mark.parametrize("event", EVENTS)
@given(data=st.data())
async def test_every_payload_gets_an_envelope_and_a_refusal_stores_nothing(server, event, data):
    who = data.draw(USERS, label="who")
    args = data.draw(arguments_of(event), label="args")
    await answer(server, who, event, args)


UNKNOWN = st.text(fuzz.characters(), min_size=1, max_size=40).filter(lambda name: name not in EVENTS)


@given(event=UNKNOWN, args=arguments({}))
async def test_an_unknown_event_is_invalid(server, event, args):
    ack = await answer(server, "alice", event, args)
    assert ack["error"]["code"] == "invalid", ack


@given(payload=fuzz.json_values() | fuzz.odd())
async def test_echo_acks_any_payload_as_is(server, payload):
    client = await server.socket("alice", ECHO)
    ack = await client.call("echo", (payload,), namespace=ECHO)
    assert json.dumps(ack) == json.dumps(payload)  # same types too: 1 is not 1.0, True is not 1
    assert client.connected


async def call_raw(client: Client, event: str, payload: Any) -> asyncio.Future[Any]:
    """Emit with the standard library's JSON, which writes what the server's encoder (shared by the
    client in this process) refuses: lone surrogates, integers past 64 bits. The future gets the ack."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    ack_id = client.sio._generate_ack_id("/", lambda *args: future.set_result(args[0]))
    await client.sio.eio.send(f"2{ack_id}{json.dumps([event, payload])}")
    return future


@settings(max_examples=TARGETED)
@given(data=st.data())
async def test_a_lone_surrogate_closes_only_that_connection_and_stores_nothing(server, data):
    """Section 5a: it cannot be decoded as JSON, so the packet closes its connection, unanswered."""
    event = data.draw(st.sampled_from(sorted(EVENTS)), label="event")
    payload = data.draw(spoilt(event), label="payload")
    client, other = await server.socket("alice"), await server.socket("bob")
    closed = asyncio.Event()
    client.sio.on("disconnect", lambda *_: closed.set())
    before = await server.rows()

    ack = await call_raw(client, event, payload)

    await asyncio.wait_for(closed.wait(), WAIT)
    assert not ack.done()
    assert "topics" in await other.ok("topic:list", {})
    assert await server.rows() == before


# Properties of one field each (the defects D5, D6, D9, D16 the fuzz found) -----------------------

# (event, the integer field, a payload that is valid but for that field)
WIDE = [
    pytest.param("message:edit", "id", {"body": "x"}),
    pytest.param("message:delete", "id", {}),
    pytest.param("history", "before_seq", {"topic": "general"}),
    pytest.param("history", "limit", {"topic": "general"}),
    pytest.param("read", "seq", {"topic": "general"}),
    pytest.param("delivered", "seq", {"topic": "general"}),
]


@pytest.mark.parametrize(("event", "key", "rest"), WIDE)
@settings(max_examples=TARGETED)
@given(number=fuzz.HUGE)
async def test_an_integer_past_64_bits_is_invalid(server, event, key, rest, number):
    """D5: ids and sequence numbers are signed 64-bit columns; anything wider is ``invalid``."""
    client = await server.socket("alice")
    before = await server.rows()

    ack = await asyncio.wait_for(await call_raw(client, event, {**rest, key: number}), WAIT)

    assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
    assert await server.rows() == before


INVISIBLE = st.text(st.sampled_from(fuzz.ZERO_WIDTH + " \t\n\u00a0\u3000"), min_size=1).filter(
    lambda body: any(char in fuzz.ZERO_WIDTH for char in body)
)
BODIES = [
    pytest.param("message:send", "body", {"topic": "general"}, id="send"),
    pytest.param("message:edit", "body", {"id": 1}, id="edit"),
    pytest.param("message", "content", {"topic_name": "general"}, id="legacy-message"),
]


@pytest.mark.parametrize(("event", "key", "rest"), BODIES)
@settings(max_examples=TARGETED)
@given(body=INVISIBLE)
async def test_a_body_of_only_invisible_characters_is_invalid(server, event, key, rest, body):
    """D16: zero-width characters (with or without whitespace) are as empty as whitespace."""
    client = await server.socket("alice")
    before = await server.rows()
    ack = await client.call(event, {**rest, key: body})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
    assert await server.rows() == before


CONTROL = st.builds(
    lambda head, char, tail: head + char + tail,
    st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=20),
    st.sampled_from("\x00\x01\x1f\x7f"),
    st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=20),
)


@pytest.mark.parametrize("event", ["message:send", "message"])
@settings(max_examples=TARGETED)
@given(client_id=CONTROL)
async def test_a_client_id_with_nul_or_control_characters_is_invalid(server, event, client_id):
    """D6: a client id PostgreSQL cannot store (NUL) is ``invalid`` on every database."""
    client = await server.socket("alice")
    before = await server.rows()
    ack = await client.call(event, {"topic": "general", "body": "x", "client_id": client_id})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
    assert await server.rows() == before


@pytest.mark.parametrize("event", ["message:edit", "message:delete"])
async def test_a_message_of_a_private_topic_is_not_found_for_a_non_member(server, event):
    """D9: a non-member learns nothing about a private topic, not even that a message id is there."""
    alice, bob = await server.socket("alice"), await server.socket("bob")
    await alice.call("topic:create", {"name": f"vault-{event[8:]}", "private": True})
    message = await alice.ok("message:send", {"topic": f"vault-{event[8:]}", "body": "mine"})
    ack = await bob.call(event, {"id": message["id"], "body": "x"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found", ack
