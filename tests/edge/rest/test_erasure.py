"""Erasure over REST (PROTOCOL.md section 16): ``DELETE /api/users/me`` ``{"password"}``, on SQLite
and on PostgreSQL. The account is disabled at once (tokens refused, sockets closed); the worker
then deletes its profile, avatar, status, email, push subscriptions, reactions and uploads and
turns every message it sent into a tombstone sent by ``[deleted]``; the name stays reserved."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from db.models import ErasureJob, File, Identity, NotificationPrefs, PushSubscription, Reaction, User
from server.chat.operators.erasure import WRONG_PASSWORDS_PER_HOUR
from tests.contract import assert_error
from tests.erasure_support import erase_me, until_erased, user_id_of
from tests.files_support import blobs, png, uploaded
from tests.support import PASSWORD, Client, LiveServer, bearer, count, general_with, send

pytestmark = pytest.mark.both_databases

WAIT = 10.0


async def closed(client: Client, within: float = WAIT) -> None:
    """Wait (bounded) until the server closed ``client``'s socket."""
    async with asyncio.timeout(within):
        while client.connected:
            await asyncio.sleep(0.02)


async def history(server: LiveServer, token: str, topic: str = "general") -> list[dict[str, Any]]:
    response = await server.http.get(f"/api/topics/{topic}/messages?limit=100", headers=bearer(token))
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def search(server: LiveServer, token: str, q: str) -> list[dict[str, Any]]:
    response = await server.http.get("/api/search", params={"q": q}, headers=bearer(token))
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


async def test_a_wrong_password_is_the_logins_401_and_changes_nothing(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    alice = await live_server.connect("alice", token)
    await alice.ok("topic:create", {"name": "general"})
    await send(alice, {"topic": "general", "body": "still here"})
    response = await erase_me(live_server, token, "not-the-password")
    assert_error(response, 401, "unauthorized")
    assert alice.connected
    me = await live_server.http.get("/api/users/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["username"] == "alice"
    [message] = [m for m in await history(live_server, token) if m["type"] == "text"]
    assert (message["sender"], message["body"], message["deleted"]) == ("alice", "still here", False)
    assert await count(live_server, ErasureJob) == 0


async def test_the_password_is_required(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    response = await live_server.http.request("DELETE", "/api/users/me", json={}, headers=bearer(token))
    assert_error(response, 422, "invalid")
    assert (await live_server.http.get("/api/users/me", headers=bearer(token))).status_code == 200


async def test_the_account_is_disabled_at_once_on_every_socket_and_token(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    first, second = await live_server.connect("alice", token), await live_server.connect("alice", token)
    response = await erase_me(live_server, token)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["username"] == "alice" and body["state"] == "erasing"
    await closed(first)
    await closed(second)
    refused = await live_server.http.get("/api/users/me", headers=bearer(token))
    assert refused.status_code == 401
    login = await live_server.http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert_error(login, 401, "unauthorized")
    again = await erase_me(live_server, token)
    assert again.status_code == 401


async def test_the_username_stays_reserved(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    user_id = await user_id_of(live_server, "alice")
    assert (await erase_me(live_server, token)).status_code == 202
    await until_erased(live_server, user_id)
    for name in ("alice", "ALICE"):
        taken = await live_server.http.post("/api/users", json={"username": name, "password": PASSWORD})
        assert_error(taken, 409, "conflict")
    other = await live_server.register("bob")
    profile = await live_server.http.get("/api/users/alice", headers=bearer(other))
    assert_error(profile, 404, "not_found")


async def test_the_system_messages_the_user_caused_keep_no_trace_of_the_name(live_server: LiveServer) -> None:
    """A topic update writes a system message naming who did it (``system.actor``): the user's own
    system messages become tombstones like the rest, without that payload (found by a smoke test)."""
    token = await live_server.register("alice")
    user_id = await user_id_of(live_server, "alice")
    made = await live_server.http.post("/api/topics", json={"name": "den"}, headers=bearer(token))
    assert made.status_code in (200, 201), made.text
    described = await live_server.http.patch(
        "/api/topics/den", json={"description": "alice's den"}, headers=bearer(token)
    )
    assert described.status_code == 200, described.text
    reader = await live_server.register("bob")
    joined = await live_server.http.post("/api/topics/den/subscribe", headers=bearer(reader))
    assert joined.status_code in (200, 201), joined.text
    [update] = [m for m in await history(live_server, reader, "den") if m["type"] == "system"]
    assert update["system"]["actor"] == "alice"

    assert (await erase_me(live_server, token)).status_code == 202
    await until_erased(live_server, user_id)

    [gone] = [m for m in await history(live_server, reader, "den") if m["id"] == update["id"]]
    assert gone["deleted"] is True and gone["sender"] == "[deleted]"
    assert gone["system"] is None and "alice" not in str(gone)


async def test_everything_the_user_wrote_or_owned_is_gone_and_messages_are_tombstones(
    live_server: LiveServer,
) -> None:
    alice_token = await live_server.register("alice")
    alice = await live_server.connect("alice", alice_token)
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    await general_with(bob, alice)
    user_id = await user_id_of(live_server, "alice")

    # Her profile, avatar, status, email preferences and a push subscription.
    avatar = await uploaded(live_server, alice_token, png(64, 64), "me.png")
    attachment = await uploaded(live_server, alice_token, png(32, 32, (1, 2, 3)), "photo.png")
    profile = {"display_name": "Alice Liddell", "title": "CEO", "avatar": avatar["id"]}
    await alice.ok("profile:update", profile)
    await alice.ok("status:set", {"emoji": "🏖", "text": "on holiday"})
    await alice.ok("notifications:set", {"push": False})
    async with live_server.chat.db.write() as repos:  # a subscription as a browser would leave it
        await repos.session.execute(
            PushSubscription.__table__.insert().values(  # type: ignore[attr-defined]
                id="s" * 32,
                user_id=user_id,
                endpoint="https://push.example/alice",
                endpoint_key="k" * 64,
                p256dh="p",
                auth="a",
                created_at=datetime.now(UTC),
            )
        )

    # Her messages: a thread root bob replies to, a reply of hers to bob, one quoted by bob, one
    # pinned, one with a file; and her reaction to bob's message.
    root = await send(alice, {"topic": "general", "body": "zanzibar root of a thread"})
    bobs = await send(bob, {"topic": "general", "body": "bob speaking"})
    await send(alice, {"topic": "general", "body": "zanzibar in bob's thread", "reply_to": bobs["id"]})
    await send(bob, {"topic": "general", "body": "a reply to the root", "thread": root["id"]})
    await send(bob, {"topic": "general", "body": "bob in his own thread", "thread": bobs["id"]})
    await send(alice, {"topic": "general", "body": "zanzibar my reply", "thread": bobs["id"]})
    quoted = await send(alice, {"topic": "general", "body": "zanzibar quoted by bob"})
    await send(bob, {"topic": "general", "body": "quoting alice", "reply_to": quoted["id"]})
    await bob.ok("message:pin", {"id": quoted["id"]})
    await send(alice, {"topic": "general", "body": "zanzibar with a file", "files": [attachment["id"]]})
    await alice.ok("reaction:add", {"id": bobs["id"], "emoji": "👍"})
    await bob.ok("reaction:add", {"id": bobs["id"], "emoji": "🎉"})
    assert len(await search(live_server, bob_token, "zanzibar")) == 5

    response = await erase_me(live_server, alice_token)
    assert response.status_code == 202, response.text
    assert response.json()["messages"] >= 5
    await until_erased(live_server, user_id)

    # History: every message of hers a tombstone sent by [deleted], bob's intact.
    messages = await history(live_server, bob_token)
    hers = [m for m in messages if m["sender"] == "[deleted]"]
    assert len(hers) >= 5
    assert all(m["deleted"] is True and m["body"] == "" for m in hers)
    assert all(m["reactions"] == [] and m["files"] == [] and not m["pinned"] for m in hers)
    assert not any(m["sender"] == "alice" for m in messages)
    by_id = {m["id"]: m for m in messages}
    assert [r["emoji"] for r in by_id[bobs["id"]]["reactions"]] == ["🎉"]
    quoting = next(m for m in messages if m["body"] == "quoting alice")
    assert quoting["reply_to"] == {"id": quoted["id"], "sender": "[deleted]", "excerpt": ""}

    # Threads: in bob's, his reply stays and hers is a tombstone; her root is a tombstone whose
    # summary counts bob's reply only.
    thread = await live_server.http.get(f"/api/messages/{bobs['id']}/thread", headers=bearer(bob_token))
    assert thread.status_code == 200, thread.text
    replies = thread.json()["messages"]
    assert [(m["sender"], m["deleted"], m["body"]) for m in replies] == [
        ("bob", False, "bob in his own thread"),
        ("[deleted]", True, ""),
    ]
    assert by_id[bobs["id"]]["thread_summary"]["participants"] == ["bob"]
    assert by_id[root["id"]]["thread_summary"]["participants"] == ["bob"]

    # Pins: hers is unpinned with the deletion.
    pins = await live_server.http.get("/api/topics/general/pins", headers=bearer(bob_token))
    assert pins.json()["pins"] == []

    # Search finds nothing of hers, by word or by sender.
    assert await search(live_server, bob_token, "zanzibar") == []
    assert await search(live_server, bob_token, "from:alice") == []

    # The rows: no reaction, file, subscription or preferences of hers; the blobs are gone; the
    # profile fields are empty.
    async with live_server.chat.db.read() as repos:
        for column in (
            Reaction.user_id,
            File.uploader_id,
            PushSubscription.user_id,
            NotificationPrefs.user_id,
        ):
            rows = await repos.session.execute(select(column).where(column == user_id))
            assert rows.first() is None, column
        user = await repos.users.by_id(user_id)
    assert user is not None
    assert user.username == "[deleted]"
    assert (user.display_name, user.title, user.avatar_file_id, user.status_text) == ("", "", None, None)
    assert user.disabled_at is not None and user.deleted_at is not None
    left = [path.name for path in blobs(live_server)]
    assert avatar["sha256"] not in left and attachment["sha256"] not in left
    gone = await live_server.http.get(avatar["url"], headers=bearer(bob_token))
    assert gone.status_code == 404


async def test_bots_the_user_owns_are_disabled_with_their_tokens(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    made = await live_server.http.post("/api/bots", json={"username": "alicebot"}, headers=bearer(token))
    assert made.status_code == 201, made.text
    issued = await live_server.http.post(
        "/api/bots/alicebot/tokens", json={"label": "ci"}, headers=bearer(token)
    )
    assert issued.status_code == 201, issued.text
    bot_token = issued.json()["token"]
    assert (await live_server.http.get("/api/users/me", headers=bearer(bot_token))).status_code == 200
    response = await erase_me(live_server, token)
    assert response.status_code == 202 and response.json()["bots_disabled"] == 1
    refused = await live_server.http.get("/api/users/me", headers=bearer(bot_token))
    assert_error(refused, 401, "unauthorized")


async def test_an_account_that_signs_in_only_through_single_sign_on_is_refused(
    live_server: LiveServer,
) -> None:
    token = await live_server.register("alice")
    user_id = await user_id_of(live_server, "alice")
    async with live_server.chat.db.write() as repos:  # as the single sign-on callback links one
        await repos.sso.link("https://id.example", "subject-1", user_id, datetime.now(UTC))
    response = await erase_me(live_server, token, "no password she knows")
    assert_error(response, 403, "forbidden")
    assert "single sign-on" in response.json()["error"]["message"]
    assert (await live_server.http.get("/api/users/me", headers=bearer(token))).status_code == 200
    assert await count(live_server, Identity) == 1
    assert await count(live_server, User) >= 1


async def test_wrong_passwords_are_few_per_account_then_rate_limited(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    for _ in range(WRONG_PASSWORDS_PER_HOUR):
        assert_error(await erase_me(live_server, token, "guess-guess"), 401, "unauthorized")
    limited = await erase_me(live_server, token, PASSWORD)  # even the right one, for a while
    assert_error(limited, 429, "rate_limited")
    assert "retry-after" in limited.headers
    assert (await live_server.http.get("/api/users/me", headers=bearer(token))).status_code == 200
