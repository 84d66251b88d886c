"""The server API's write side (PROTOCOL.md section 17) on a real server: a backend's key publishes
through the one send path (seq, history, live delivery, client_id idempotency), adds and removes
members with the events of an invite and a kick, makes topics and users and their tokens, and
disconnects users; each route wants its scope, a missing, unknown or revoked key is 401, and a
key is no user token. Bad input is refused with the protocol's codes and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from db.backends.tables import ServerKeyRow
from db.conversations.tables import Message
from tests.contract import assert_error
from tests.support import WAIT, Client, LiveServer, bearer, count, offline_bob, polled, running
from tests.support import test_settings as make_settings

ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("publish", "POST", "/api/server/messages", {"topic": "lobby", "body": "hi"}),
    ("publish", "POST", "/api/server/broadcast", {"topics": ["lobby"], "body": "hi"}),
    ("members", "PUT", "/api/server/topics/lobby/members/alice", {}),
    ("members", "DELETE", "/api/server/topics/lobby/members/alice", None),
    ("members", "POST", "/api/server/topics", {"name": "made-here"}),
    ("users", "PUT", "/api/server/users/carol", {}),
    ("users", "POST", "/api/server/users/alice/tokens", {}),
    ("disconnect", "POST", "/api/server/users/alice/disconnect", {}),
]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(make_settings(tmp_path / "data")) as live:
        yield live


async def key_of(server: LiveServer, label: str = "shop", scopes: list[str] | None = None) -> dict[str, str]:
    made = await server.chat.server_keys.create(label, scopes)
    return bearer(made.key)


async def call(
    server: LiveServer, key: dict[str, str], method: str, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await server.http.request(method, path, headers=key, json=body)


async def test_each_route_wants_a_live_key_holding_its_scope(server):
    await server.register("alice")
    made = await server.chat.server_keys.create("gone")
    await server.chat.server_keys.revoke(made.id)
    for scope, method, path, body in ROUTES:
        for headers in ({}, bearer("psk_unknown"), bearer(made.key), {"Authorization": "Basic eA=="}):
            assert_error(await call(server, headers, method, path, body), 401, "unauthorized")
        others = [s for s in ("publish", "members", "users", "disconnect") if s != scope]
        assert_error(
            await call(server, await key_of(server, f"no-{scope}", others), method, path, body),
            403,
            "forbidden",
        )
        allowed = await call(server, await key_of(server, f"with-{scope}", [scope]), method, path, body)
        assert allowed.status_code in (200, 201), (path, allowed.text)


async def test_a_key_is_no_user_token(server):
    key = await key_of(server)
    assert_error(await server.http.get("/api/users/me", headers=key), 401, "unauthorized")
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.url, auth={"token": key["Authorization"][7:]}, wait_timeout=WAIT)


async def test_published_messages_reach_a_connected_member_in_seq_order_and_stay_in_history(server):
    key = await key_of(server)
    alice = await server.connect("alice", await server.register("alice"))
    await alice.ok("topic:create", {"name": "news"})
    seqs = []
    for n in range(5):
        answer = await call(server, key, "POST", "/api/server/messages", {"topic": "news", "body": f"m{n}"})
        assert answer.status_code == 201, answer.text
        assert answer.json()["sender"] == "shop" and answer.json()["topic"] == "news"
        seqs.append(answer.json()["seq"])
    got = [await alice.next("message") for _ in range(5)]
    assert [m["body"] for m in got] == [f"m{n}" for n in range(5)]
    assert [m["seq"] for m in got] == seqs == sorted(seqs)
    history = await alice.ok("history", {"topic": "news"})
    assert [m["body"] for m in history["messages"]][-5:] == [f"m{n}" for n in range(5)]


async def test_a_member_offline_gets_a_published_message_with_its_mention_when_back(server):
    _alice, token = await offline_bob(server)
    key = await key_of(server)
    body = {"topic": "general", "body": "@bob your order shipped"}
    sent = await call(server, key, "POST", "/api/server/messages", body)
    assert sent.status_code == 201 and sent.json()["mentions"] == ["bob"], sent.text
    bob = await server.connect("bob", token)
    got = await bob.next("message")  # the backlog, after the session
    assert (got["id"], got["mentions"], got["bot"]) == (sent.json()["id"], ["bob"], True)
    found = await bob.ok("search", {"q": "shipped"})
    assert [hit["message"]["id"] for hit in found["hits"]] == [sent.json()["id"]]


async def test_a_retry_with_the_same_client_id_answers_the_same_message_and_stores_nothing(server):
    key = await key_of(server)
    payload = {"topic": "lobby", "body": "once", "client_id": "order-17"}
    first = await call(server, key, "POST", "/api/server/messages", payload)
    before = await count(server, Message)
    again = await call(server, key, "POST", "/api/server/messages", payload)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["seq"] == first.json()["seq"]
    assert await count(server, Message) == before


async def test_as_needs_its_scope_and_a_user_who_could_send_there(server):
    alice = await server.connect("alice", await server.register("alice"))
    await server.register("bob")
    await alice.ok("topic:create", {"name": "den", "private": True})
    plain = await key_of(server, "plain")
    acting = await key_of(server, "acting", ["publish", "as_user"])
    as_alice = {"topic": "den", "body": "from the backend", "as": "alice"}
    assert_error(await call(server, plain, "POST", "/api/server/messages", as_alice), 403, "forbidden")
    sent = await call(server, acting, "POST", "/api/server/messages", as_alice)
    assert sent.status_code == 201 and sent.json()["sender"] == "alice", sent.text
    assert (await alice.next("message"))["body"] == "from the backend"
    as_bob = {**as_alice, "as": "bob"}
    assert_error(await call(server, acting, "POST", "/api/server/messages", as_bob), 404, "not_found")
    as_nobody = {**as_alice, "as": "nobody"}
    assert_error(await call(server, acting, "POST", "/api/server/messages", as_nobody), 404, "not_found")


async def test_to_is_a_direct_message_from_the_keys_bot(server):
    alice = await server.connect("alice", await server.register("alice"))
    key = await key_of(server, "Billing")
    sent = await call(server, key, "POST", "/api/server/messages", {"to": "alice", "body": "your invoice"})
    assert sent.status_code == 201, sent.text
    got = await alice.next("message")
    assert (got["body"], got["sender"]) == ("your invoice", "Billing")


async def test_broadcast_sends_to_each_topic_or_to_none(server):
    alice = await server.connect("alice", await server.register("alice"))
    for name in ("one", "two"):
        await alice.ok("topic:create", {"name": name})
    key = await key_of(server)
    before = await count(server, Message)
    missing = await call(
        server, key, "POST", "/api/server/broadcast", {"topics": ["one", "nope"], "body": "x"}
    )
    assert_error(missing, 404, "not_found")
    assert await count(server, Message) == before
    sent = await call(server, key, "POST", "/api/server/broadcast", {"topics": ["two", "one"], "body": "all"})
    assert sent.status_code == 201, sent.text
    assert [m["topic"] for m in sent.json()["messages"]] == ["two", "one"]
    assert sorted([(await alice.next("message"))["topic"] for _ in range(2)]) == ["one", "two"]


async def test_a_member_added_by_the_server_hears_the_invite_and_the_topics_messages_and_a_removal(server):
    owner = await server.connect("olive", await server.register("olive"))
    await owner.ok("topic:create", {"name": "vip", "private": True})
    alice = await server.connect("alice", await server.register("alice"))
    key = await key_of(server)
    added = await call(server, key, "PUT", "/api/server/topics/vip/members/alice", {"role": "moderator"})
    assert added.status_code == 200 and added.json()["added"] is True, added.text
    invited = await alice.next("topic:invited")
    assert (invited["topic"]["name"], invited["by"]) == ("vip", "shop")
    await owner.ok("message:send", {"topic": "vip", "body": "welcome"})
    assert (await alice.next("message"))["body"] == "welcome"  # no rejoin: the socket followed
    again = await call(server, key, "PUT", "/api/server/topics/vip/members/alice")
    assert again.status_code == 200 and again.json()["added"] is False
    removed = await call(server, key, "DELETE", "/api/server/topics/vip/members/alice")
    assert removed.status_code == 200 and removed.json() == {"removed": True}
    assert (await alice.next("topic:removed"))["topic"] == "vip"
    await owner.ok("message:send", {"topic": "vip", "body": "after"})
    seen = [(await owner.next("message"))["body"] for _ in range(3)]
    assert seen == ["welcome", "shop removed alice", "after"]  # the kick's system message between
    assert "after" not in [m["body"] for m in alice.pending("message")]
    members = await owner.ok("topic:members", {"topic": "vip"})
    assert "alice" not in [m["username"] for m in members["members"]]


async def test_topics_are_made_for_an_owner_or_the_keys_bot(server):
    await server.register("alice")
    key = await key_of(server)
    made = await call(
        server, key, "POST", "/api/server/topics", {"name": "deals", "private": True, "owner": "alice"}
    )
    assert made.status_code == 201 and made.json()["name"] == "deals", made.text
    own = await call(server, key, "POST", "/api/server/topics", {"name": "bots-own"})
    assert own.status_code == 201, own.text
    taken = await call(server, key, "POST", "/api/server/topics", {"name": "deals"})
    assert_error(taken, 409, "conflict")
    nobody = await call(server, key, "POST", "/api/server/topics", {"name": "other", "owner": "nobody"})
    assert_error(nobody, 404, "not_found")


async def test_users_without_passwords_their_tokens_and_disconnect(server):
    key = await key_of(server)
    put = await call(
        server, key, "PUT", "/api/server/users/carol", {"display_name": "Carol C", "email": "c@example.com"}
    )
    assert put.status_code == 200, put.text
    assert put.json() == {
        "username": "carol",
        "display_name": "Carol C",
        "email": "c@example.com",
        "created": True,
    }
    login = await server.http.post("/api/auth/login", json={"username": "carol", "password": "!"})
    assert_error(login, 401, "unauthorized")
    updated = await call(server, key, "PUT", "/api/server/users/carol", {"display_name": "Carol D"})
    assert updated.json()["created"] is False and updated.json()["display_name"] == "Carol D"
    minted = await call(server, key, "POST", "/api/server/users/carol/tokens", {"ttl": 600})
    assert minted.status_code == 200, minted.text
    token = minted.json()["token"]
    me = await server.http.get("/api/users/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["username"] == "carol"
    carol = await server.connect("carol", token)
    closed = await call(server, key, "POST", "/api/server/users/carol/disconnect", {})
    assert closed.status_code == 200, closed.text
    await polled(lambda: gone(carol), WAIT)
    assert (await server.http.get("/api/users/me", headers=bearer(token))).status_code == 200  # tokens stay
    again = await server.connect("carol", token)
    revoked = await call(server, key, "POST", "/api/server/users/carol/disconnect", {"revoke": True})
    assert revoked.status_code == 200
    await polled(lambda: gone(again), WAIT)
    assert_error(await server.http.get("/api/users/me", headers=bearer(token)), 401, "token_revoked")


async def gone(client: Client) -> bool:
    return not client.connected


async def test_bad_input_is_refused_and_changes_nothing(server):
    key = await key_of(server)
    rows_before = await count(server, Message)
    for method, path, body, status, code in [
        ("POST", "/api/server/messages", {"body": "no target"}, 422, "invalid"),
        ("POST", "/api/server/messages", {"topic": "lobby", "to": "x", "body": "two"}, 422, "invalid"),
        ("POST", "/api/server/messages", {"topic": "lobby", "body": ""}, 422, "invalid"),
        ("POST", "/api/server/messages", {"topic": "nope", "body": "x"}, 404, "not_found"),
        ("POST", "/api/server/broadcast", {"topics": [], "body": "x"}, 422, "invalid"),
        ("POST", "/api/server/broadcast", {"topics": ["lobby", "LOBBY"], "body": "x"}, 422, "invalid"),
        (
            "POST",
            "/api/server/broadcast",
            {"topics": [f"t{n}" for n in range(101)], "body": "x"},
            422,
            "invalid",
        ),
        ("PUT", "/api/server/topics/lobby/members/alice", {"role": "owner"}, 422, "invalid"),
        ("PUT", "/api/server/topics/lobby/members/nobody", {}, 404, "not_found"),
        ("POST", "/api/server/topics", {"name": "bad name"}, 422, "invalid"),
        ("PUT", "/api/server/users/x", {}, 422, "invalid"),
        ("PUT", "/api/server/users/dave", {"email": "not-an-address"}, 422, "invalid"),
        ("POST", "/api/server/users/nobody/tokens", {}, 404, "not_found"),
        ("POST", "/api/server/users/nobody/tokens", {"ttl": 5}, 422, "invalid"),
        ("POST", "/api/server/users/nobody/disconnect", {}, 404, "not_found"),
    ]:
        assert_error(await call(server, key, method, path, body), status, code)
    assert await count(server, Message) == rows_before
    async with server.chat.db.read() as repos:
        assert await repos.users.by_name("dave") is None
        assert await repos.topics.by_name("bad name") is None


async def test_a_key_over_its_rate_is_rate_limited(tmp_path):
    settings = make_settings(tmp_path / "data", server_key_burst=3, server_key_rate=0.01)
    async with running(settings) as server:
        key = await key_of(server)
        answers = [await call(server, key, "POST", "/api/server/users/alice/tokens", {}) for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [404, 404, 404]
        assert_error(answers[3], 429, "rate_limited")
        assert int(answers[3].headers["Retry-After"]) >= 1


@pytest.mark.both_databases
async def test_what_a_key_changes_is_audited_under_its_label(live_server):
    server = live_server  # a publish's row is written with its message: both send stores
    await server.register("alice")
    key = await key_of(server, "Shop backend")
    body = {"topic": "lobby", "body": "x", "client_id": "c1"}
    sent = await call(server, key, "POST", "/api/server/messages", body)
    await call(server, key, "POST", "/api/server/messages", body)  # a retry: no second row
    await call(server, key, "POST", "/api/server/topics", {"name": "t1"})
    await call(server, key, "PUT", "/api/server/topics/t1/members/alice", {})
    await call(server, key, "DELETE", "/api/server/topics/t1/members/alice")
    await call(server, key, "PUT", "/api/server/users/zed", {"display_name": "Zed"})
    await call(server, key, "POST", "/api/server/users/zed/tokens", {})
    await call(server, key, "POST", "/api/server/users/zed/disconnect", {})
    rows = (await server.chat.audit.newest(50, actor="key:Shop backend")).entries
    assert sorted({row.action for row in rows}) == sorted(
        {
            "server.publish",
            "server.topic.create",
            "server.member.add",
            "server.member.remove",
            "server.user.create",
            "server.user.update",
            "server.user.token",
            "server.user.disconnect",
        }
    )
    assert all(row.actor == "key:Shop backend" and row.actor_id is None for row in rows)
    [published] = [row for row in rows if row.action == "server.publish"]
    assert (published.target, published.topic) == ("lobby", "lobby")
    assert published.details == {
        "message_id": sent.json()["id"],
        "seq": sent.json()["seq"],
        "as": "Shop-backend",
    }


async def test_the_openapi_document_puts_the_routes_under_their_tag_with_the_key_scheme(server):
    spec = (await server.http.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["serverKey"]["scheme"] == "bearer"
    operations = [
        op for path, item in spec["paths"].items() if path.startswith("/api/server/") for op in item.values()
    ]
    assert operations and all(op["tags"] == ["Server API"] for op in operations)
    assert all(op["security"] == [{"serverKey": []}] for op in operations)
    assert await count(server, ServerKeyRow) == 0
