"""The original JSON protocol's event names and fields (PROTOCOL.md 3, "Aliases")."""

from __future__ import annotations

import pytest

from db.models import Message
from tests.contract import error_code
from tests.support import PASSWORD, count


@pytest.mark.parametrize("event", ["subscribe", "suscribe"])
@pytest.mark.parametrize("field", ["topic", "topic_name"])
async def test_subscribe_aliases_subscribe_with_history(live_server, event, field):
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    sent = await alice.ok("message:send", {"topic": "general", "body": "before"})

    data = await bob.ok(event, {field: "General"})
    later = await alice.ok("message:send", {"topic": "general", "body": "after"})

    assert data["topic"]["name"] == "general" and data["topic"]["subscribed"] is True
    assert data["history"] == [sent]
    assert await bob.next("message") == later


async def test_create_takes_topic_name_and_is_private(live_server):
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")

    private = await alice.ok("create", {"topic_name": "secret", "is_private": True})
    public = await alice.ok("create", {"name": "open"})
    conflict = await alice.call("create", {"topic_name": "SECRET"})

    assert (private["name"], private["kind"], private["owner"]) == ("secret", "private", "alice")
    assert (public["name"], public["kind"]) == ("open", "public")
    assert error_code(conflict) == "conflict"
    assert error_code(await bob.call("topic:subscribe", {"topic": "secret"})) == "not_found"


async def test_invite_takes_topic_name(live_server):
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    await alice.ok("create", {"topic_name": "secret", "is_private": True})

    data = await alice.ok("invite", {"topic_name": "secret", "username": "bob"})
    sent = await alice.ok("message:send", {"topic": "secret", "body": "welcome"})

    assert data["topic"]["members"] == 2
    assert (await bob.next("topic:invited"))["by"] == "alice"
    assert await bob.next("message") == sent


async def test_message_with_topic_name_and_content_posts_to_the_topic(live_server):
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")

    sent = await alice.ok("message", {"topic_name": "lobby", "content": "hi all"})

    assert (sent["topic"], sent["kind"], sent["body"], sent["seq"]) == ("lobby", "public", "hi all", 1)
    assert await bob.next("message") == sent


async def test_message_to_a_name_that_is_a_user_and_no_topic_is_a_direct_message(live_server):
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")

    sent = await alice.ok("message", {"topic_name": "bob", "content": "psst", "client_id": "c1"})
    again = await alice.ok("message", {"topic_name": "bob", "content": "psst", "client_id": "c1"})

    assert (sent["topic"], sent["kind"], sent["sender"]) == ("@bob", "direct", "alice")
    assert again == sent
    assert await bob.next("message") == {**sent, "topic": "@alice"}
    assert await count(live_server, Message) == 1


async def test_message_to_a_topics_name_goes_to_the_topic_whose_name_no_user_can_take(live_server):
    alice = await live_server.user("alice")
    await alice.ok("create", {"topic_name": "Dave"})
    refused = await live_server.http.post("/api/users", json={"username": "dave", "password": PASSWORD})

    sent = await alice.ok("message", {"topic_name": "dave", "content": "which one?"})

    assert refused.status_code == 409  # one namespace (PROTOCOL.md 3): no DM can be taken over
    assert (sent["topic"], sent["kind"]) == ("Dave", "public")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"topic_name": "nobody", "content": "hi"}, "not_found"),
        ({"topic_name": "alice", "content": "me"}, "invalid"),
        ({"topic_name": "lobby", "content": "   "}, "invalid"),
        ({"topic_name": "lobby"}, "invalid"),
        ({"content": "hi"}, "invalid"),
        ({"topic_name": "no such", "content": "hi"}, "invalid"),
    ],
    ids=["unknown-name", "yourself", "blank", "no-content", "no-name", "bad-name"],
)
async def test_message_alias_refusals(live_server, payload, code):
    alice = await live_server.user("alice")

    assert error_code(await alice.call("message", payload)) == code
    assert await count(live_server, Message) == 0
