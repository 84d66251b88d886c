"""Topics, conversations and messages over REST, against live sockets (PROTOCOL.md 6).

One server per module and database (``server``); each test has its own users and topics
(``Names``: ``names.alice`` is ``alice`` with the test's number), so tests meet no one else's
rows, whatever their order. The PostgreSQL variant runs the tests marked ``both_databases``:
those that lean on a constraint or a query the two databases answer in their own way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from db.models import Membership, Message, Topic
from tests.contract import TOPIC_FIELDS, shown
from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import Client, LiveServer, bearer, count_rows

pytestmark = pytest.mark.asyncio(loop_scope="module")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The module's ``server``: SQLite, and PostgreSQL too for a test marked ``both_databases``."""
    databases_of(metafunc)


@pytest.fixture
def names() -> Names:
    return Names()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory, request) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory, request.param) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


class Api:
    """One user's REST view of the server, with a Bearer token."""

    def __init__(self, live_server: LiveServer, token: str) -> None:
        self.http = live_server.http
        self.headers = bearer(token)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers=self.headers)

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.headers)


async def api_and_socket(live_server: LiveServer, name: str) -> tuple[Api, Client]:
    token = await live_server.register(name)
    return Api(live_server, token), await live_server.connect(name, token)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code and body["error"]["message"], body


async def counts(live_server: LiveServer) -> tuple[int, ...]:
    return await count_rows(live_server, Message, Topic, Membership)


# Topics -----------------------------------------------------------------------


def listed_names(listing: dict[str, Any], *mine: str) -> list[str]:
    """The names of a topic listing, in its order, of ``lobby`` and this test's ``mine``."""
    return [t["name"] for t in listing["topics"] if t["name"] in {"lobby", *mine}]


async def test_topics_are_created_listed_and_read(live_server, names):
    alice, _ = await api_and_socket(live_server, names.alice)
    bob, _ = await api_and_socket(live_server, names.bob)
    general, secret = names.General, names.secret

    created = ok(await alice.post("/api/topics", {"name": general}), 201)
    made_secret = ok(await alice.post("/api/topics", {"name": secret, "private": True}), 201)

    assert set(created) == TOPIC_FIELDS
    assert (created["name"], created["kind"], created["owner"], created["subscribed"]) == (
        general,
        "public",
        names.alice,
        True,
    )
    assert made_secret["kind"] == "private"
    assert ok(await bob.get(f"/api/topics/{general.lower()}")) == {
        **created,
        "subscribed": False,
        "online": 1,
    }
    listed = ok(await bob.get("/api/topics"))
    assert set(listed) == {"topics"}
    assert listed_names(listed, general, secret) == ["lobby", general]
    assert listed_names(ok(await alice.get("/api/topics")), general, secret) == ["lobby", general, secret]


@pytest.mark.both_databases
async def test_topic_errors_have_the_status_and_code_of_the_contract(live_server, names):
    alice, _ = await api_and_socket(live_server, names.alice)
    bob, _ = await api_and_socket(live_server, names.bob)
    secret, nowhere = names.secret, names.nowhere
    ok(await alice.post("/api/topics", {"name": secret, "private": True}), 201)
    before = await counts(live_server)

    refused(await alice.post("/api/topics", {"name": secret.upper()}), 409, "conflict")
    refused(await alice.post("/api/topics", {"name": "bad name"}), 422, "invalid")
    refused(await alice.post("/api/topics", {"name": "x" * 65}), 422, "invalid")
    refused(await alice.post("/api/topics", {"name": "ok", "private": "yes"}), 422, "invalid")
    refused(await alice.post("/api/topics", ["ok"]), 422, "invalid")
    refused(await alice.get(f"/api/topics/{nowhere}"), 404, "not_found")
    refused(await bob.post(f"/api/topics/{secret}/subscribe"), 404, "not_found")  # PROTOCOL.md section 3
    for path in ("", "/members", "/messages"):  # a non-member learns nothing of a private topic
        hidden, missing = (
            await bob.get(f"/api/topics/{secret.upper()}{path}"),
            await bob.get(f"/api/topics/{nowhere}{path}"),
        )
        refused(hidden, 404, "not_found")
        assert hidden.json()["error"]["message"] == missing.json()["error"]["message"].replace(
            nowhere, secret
        )
    hidden = ok(await alice.post("/api/messages", {"topic": secret, "body": "members only"}), 201)["id"]
    for method in ("PUT", "DELETE"):
        answers = [
            await bob.http.request(method, f"/api/messages/{number}", json={"body": "x"}, headers=bob.headers)
            for number in (hidden, hidden + 1000)
        ]
        refused(answers[0], 404, "not_found")
        assert answers[0].json()["error"]["message"] == answers[1].json()["error"]["message"].replace(
            str(hidden + 1000), str(hidden)
        )
    before = await counts(live_server)
    refused(await live_server.http.get("/api/topics"), 401, "unauthorized")
    refused(await Api(live_server, "not-a-token").get("/api/topics"), 401, "unauthorized")
    assert await counts(live_server) == before


@pytest.mark.both_databases
async def test_members_subscribe_and_unsubscribe(live_server, names):
    alice, _ = await api_and_socket(live_server, names.alice)
    bob, bob_socket = await api_and_socket(live_server, names.bob)
    general = names.general
    ok(await alice.post("/api/topics", {"name": general}), 201)
    first = ok(await alice.post("/api/messages", {"topic": general, "body": "before"}), 201)

    subscribed = ok(await bob.post(f"/api/topics/{general.upper()}/subscribe"))
    again = ok(await bob.post(f"/api/topics/{general}/subscribe"))
    members = ok(await bob.get(f"/api/topics/{general}/members"))
    live = ok(await alice.post("/api/messages", {"topic": general, "body": "live"}), 201)

    assert set(subscribed) == {"topic", "history"} and subscribed["history"] == [first]
    assert subscribed["topic"]["members"] == again["topic"]["members"] == 2
    # A public topic: bob sees his own presence only (sections 4 and 14).
    assert {"members": [shown(m) for m in members["members"]]} == {
        "members": [
            {
                "username": names.alice,
                "role": "owner",
                "online": False,
                "display_name": "",
                "avatar": None,
                "availability": None,
            },
            {
                "username": names.bob,
                "role": "member",
                "online": True,
                "display_name": "",
                "avatar": None,
                "availability": "online",
            },
        ]
    }
    assert await bob_socket.next("message") == live  # the open socket joined the room

    assert ok(await bob.post(f"/api/topics/{general}/unsubscribe")) == {}
    ok(await alice.post("/api/messages", {"topic": general, "body": "gone"}), 201)
    marker = ok(await alice.post("/api/messages", {"topic": "lobby", "body": "marker"}), 201)
    assert await bob_socket.next("message") == marker
    assert ok(await bob.get(f"/api/topics/{general}"))["subscribed"] is False


@pytest.mark.both_databases
async def test_members_are_found_by_a_word_of_their_name(live_server, names):
    """``?query=``: only the members a word of whose name starts with it, whole names first; ``limit``
    cuts the list; a bad one is ``invalid`` (Parley's addition to ``topic:members``)."""
    alice, _ = await api_and_socket(live_server, names.alice)
    bob, _ = await api_and_socket(live_server, names.bob)
    carol, _ = await api_and_socket(live_server, names.carol)
    general = names.general
    ok(await alice.post("/api/topics", {"name": general}), 201)
    ok(await bob.post(f"/api/topics/{general}/subscribe"))
    # carol is in no topic but the lobby: never among the general's members

    found = ok(await carol.get(f"/api/topics/{general}/members", query=names.bob.upper()))
    first = ok(await carol.get(f"/api/topics/{general}/members", limit=1))
    nobody = ok(await alice.get(f"/api/topics/{general}/members", query=names.carol))

    assert [m["username"] for m in found["members"]] == [names.bob]
    assert [m["username"] for m in first["members"]] == [names.alice]
    assert nobody == {"members": []}
    refused(await alice.get(f"/api/topics/{general}/members", limit=0), 422, "invalid")
    refused(await alice.get(f"/api/topics/{general}/members", query=""), 422, "invalid")


async def test_the_owner_may_not_leave_a_private_topic_others_are_in(live_server, names):
    alice, _ = await api_and_socket(live_server, names.alice)
    await live_server.register(names.bob)
    ok(await alice.post("/api/topics", {"name": names.secret, "private": True}), 201)
    ok(await alice.post(f"/api/topics/{names.secret}/invite", {"username": names.bob}))

    refused(await alice.post(f"/api/topics/{names.secret}/unsubscribe"), 403, "forbidden")


async def test_invite_adds_the_member_and_tells_its_open_sockets(live_server, names):
    alice, _ = await api_and_socket(live_server, names.alice)
    bob, bob_socket = await api_and_socket(live_server, names.bob)
    carol, _ = await api_and_socket(live_server, names.carol)
    secret = names.secret
    ok(await alice.post("/api/topics", {"name": secret, "private": True}), 201)
    before = await counts(live_server)

    refused(await carol.post(f"/api/topics/{secret}/invite", {"username": names.bob}), 404, "not_found")
    refused(await alice.post(f"/api/topics/{secret}/invite", {"username": names.nobody}), 404, "not_found")
    refused(await alice.post(f"/api/topics/{secret}/invite", {"username": "b"}), 422, "invalid")
    refused(
        await alice.post(f"/api/topics/{names.nowhere}/invite", {"username": names.bob}), 404, "not_found"
    )
    assert await counts(live_server) == before

    invited = ok(await alice.post(f"/api/topics/{secret}/invite", {"username": names.bob}))
    sent = ok(await alice.post("/api/messages", {"topic": secret, "body": "welcome"}), 201)

    assert set(invited) == {"topic"} and invited["topic"]["members"] == 2
    told = await bob_socket.next("topic:invited")
    assert told["by"] == names.alice and told["topic"]["name"] == secret
    assert await bob_socket.next("message") == sent
    assert ok(await bob.get(f"/api/topics/{secret}"))["subscribed"] is True


# History pages ------------------------------------------------------------------

PAGES: list[tuple[dict[str, Any], range, bool]] = [
    ({"limit": 1}, range(120, 121), True),
    ({}, range(71, 121), True),
    ({"limit": 200}, range(1, 121), False),
    ({"before_seq": 1}, range(0), False),
    ({"before_seq": 61, "limit": 10}, range(51, 61), True),
    ({"before_seq": 51}, range(1, 51), False),
    ({"before_seq": 10_000}, range(71, 121), True),
]


@pytest.mark.both_databases
async def test_topic_messages_are_paged_like_history(live_server, names):
    alice, socket = await api_and_socket(live_server, names.alice)
    general = names.general
    ok(await alice.post("/api/topics", {"name": general}), 201)
    await asyncio.gather(
        *(socket.ok("message:send", {"topic": general, "body": f"m{n}"}) for n in range(120))
    )

    for params, expected, has_more in PAGES:
        page = ok(await alice.get(f"/api/topics/{general}/messages", **params))
        assert set(page) == {"messages", "has_more"}
        assert ([m["seq"] for m in page["messages"]], page["has_more"]) == (list(expected), has_more), params
        assert page == await socket.ok("history", {"topic": general, **params})

    for params in ({"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"before_seq": 0}, {"before_seq": -3}):
        refused(await alice.get(f"/api/topics/{general}/messages", **params), 422, "invalid")


# Direct conversations -------------------------------------------------------------


@pytest.mark.both_databases
async def test_opening_a_conversation_is_idempotent_and_lists_it_for_both(live_server, names):
    alice, _ = await api_and_socket(live_server, names.alice)
    bob, _ = await api_and_socket(live_server, names.bob)

    opened = ok(await alice.post("/api/conversations", {"recipient": names.bob}))
    before = await counts(live_server)
    again = ok(await alice.post("/api/conversations", {"recipient": names.bob.upper()}))
    from_bob = ok(await bob.post("/api/conversations", {"recipient": names.alice}))

    assert set(opened) == TOPIC_FIELDS
    assert (opened["name"], opened["kind"], opened["members"], opened["last_seq"]) == (
        f"@{names.bob}",
        "direct",
        2,
        0,
    )
    assert again == opened
    assert from_bob["name"] == f"@{names.alice}"
    assert await counts(live_server) == before
    assert ok(await alice.get("/api/conversations")) == {"topics": [opened]}
    assert ok(await bob.get("/api/conversations")) == {"topics": [from_bob]}


async def test_conversation_errors(live_server, names):
    alice, _ = await api_and_socket(live_server, names.alice)
    before = await counts(live_server)

    refused(await alice.post("/api/conversations", {"recipient": names.alice}), 422, "invalid")
    refused(await alice.post("/api/conversations", {"recipient": names.nobody}), 404, "not_found")
    refused(await alice.post("/api/conversations", {"recipient": "x"}), 422, "invalid")
    refused(await alice.post("/api/conversations", {}), 422, "invalid")
    refused(await alice.get(f"/api/conversations/{names.nobody}/messages"), 404, "not_found")
    refused(await alice.get(f"/api/conversations/{names.alice}/messages"), 422, "invalid")
    assert await counts(live_server) == before


async def test_conversation_messages_are_the_history_with_that_user(live_server, names):
    alice, alice_socket = await api_and_socket(live_server, names.alice)
    bob, _ = await api_and_socket(live_server, names.bob)
    for n in range(3):
        await alice_socket.ok("message:send", {"to": names.bob, "body": f"d{n}"})

    mine = ok(await alice.get(f"/api/conversations/{names.bob}/messages", limit=2))
    theirs = ok(await bob.get(f"/api/conversations/{names.alice.upper()}/messages"))

    assert [m["seq"] for m in mine["messages"]] == [2, 3] and mine["has_more"] is True
    assert {m["topic"] for m in mine["messages"]} == {f"@{names.bob}"}
    assert [m["body"] for m in theirs["messages"]] == ["d0", "d1", "d2"]
    assert {m["topic"] for m in theirs["messages"]} == {f"@{names.alice}"}
    assert mine == await alice_socket.ok("history", {"with": names.bob, "limit": 2})


# Messages ---------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_message_posted_over_rest_reaches_sockets_as_if_sent_over_socketio(live_server, names):
    alice, alice_socket = await api_and_socket(live_server, names.alice)
    _, bob_socket = await api_and_socket(live_server, names.bob)
    general = names.general  # a topic of the test's own: lobby's numbers are every test's
    ok(await alice.post("/api/topics", {"name": general}), 201)
    await bob_socket.ok("topic:subscribe", {"topic": general})

    over_rest = ok(
        await alice.post("/api/messages", {"topic": general, "body": "rest", "client_id": "r1"}), 201
    )
    over_sio = await alice_socket.ok("message:send", {"topic": general, "body": "sio", "client_id": "s1"})

    got_rest, got_sio = await bob_socket.next("message"), await bob_socket.next("message")
    assert got_rest == over_rest and got_sio == over_sio
    assert set(over_rest) == set(over_sio)
    assert await alice_socket.next("message") == over_rest  # the sender's own socket too
    assert (over_rest["seq"], over_sio["seq"]) == (1, 2)
    again = ok(await alice.post("/api/messages", {"topic": general, "body": "rest", "client_id": "r1"}), 201)
    assert again == over_rest


async def test_a_direct_message_posted_over_rest_names_the_other_side(live_server, names):
    alice, alice_socket = await api_and_socket(live_server, names.alice)
    _, bob_socket = await api_and_socket(live_server, names.bob)

    sent = ok(await alice.post("/api/messages", {"to": names.bob, "body": "psst"}), 201)

    assert (sent["topic"], sent["kind"], sent["seq"]) == (f"@{names.bob}", "direct", 1)
    assert await bob_socket.next("message") == {**sent, "topic": f"@{names.alice}"}
    assert await alice_socket.next("message") == sent


def named(body: dict[str, Any], names: Names) -> dict[str, Any]:
    """``body`` with the test's names for its placeholders (``"{general}"``, ``"{bob}"``)."""
    return {
        key: getattr(names, value.strip("{}")) if isinstance(value, str) and value.startswith("{") else value
        for key, value in body.items()
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"topic": "{general}", "body": "x"}, 403, "forbidden"),
        ({"topic": "{nowhere}", "body": "x"}, 404, "not_found"),
        ({"to": "{nobody}", "body": "x"}, 404, "not_found"),
        ({"to": "{alice}", "body": "x"}, 422, "invalid"),
        ({"topic": "lobby", "to": "{bob}", "body": "x"}, 422, "invalid"),
        ({"body": "x"}, 422, "invalid"),
        ({"topic": "lobby", "body": "  "}, 422, "invalid"),
        ({"topic": "lobby", "body": "é" * 4001}, 422, "invalid"),
        ({"topic": "lobby", "body": 5}, 422, "invalid"),
        ({"topic": "lobby", "body": "x", "client_id": "c" * 65}, 422, "invalid"),
    ],
    ids=[
        "not-subscribed",
        "unknown-topic",
        "unknown-user",
        "yourself",
        "topic-and-to",
        "no-target",
        "blank-body",
        "long-body",
        "body-number",
        "long-client-id",
    ],
)
async def test_posting_a_message_is_refused_with_the_right_status(live_server, names, body, status, code):
    alice, _ = await api_and_socket(live_server, names.alice)
    bob, _ = await api_and_socket(live_server, names.bob)
    ok(await bob.post("/api/topics", {"name": names.general}), 201)
    before = await counts(live_server)

    refused(await alice.post("/api/messages", named(body, names)), status, code)
    assert await counts(live_server) == before
