"""The REST twins of section 8: the same rules, and live sockets see the result as from Socket.IO."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from db.models import Reaction
from tests.support import bearer, count_rows, general_with, send

pytestmark = pytest.mark.both_databases


async def test_reactions_replies_threads_pins_and_notify_over_rest(live_server):
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    await general_with(alice, bob)
    token = await live_server.register("carol")
    carol = await live_server.connect("carol", token)
    await carol.ok("topic:subscribe", {"topic": "general"})
    http, auth = live_server.http, bearer(token)
    root = await send(alice, {"topic": "general", "body": "rest root"})

    reacted = await http.put(f"/api/messages/{root['id']}/reactions/{quote('👍')}", headers=auth)
    assert reacted.status_code == 200, reacted.text
    assert reacted.json()["reactions"] == [{"emoji": "👍", "count": 1, "users": ["carol"], "me": True}]
    assert (await bob.next("reaction:updated"))["reactions"][0]["me"] is False
    removed = await http.delete(f"/api/messages/{root['id']}/reactions/{quote('👍')}", headers=auth)
    assert removed.json()["reactions"] == [] and await count_rows(live_server, Reaction) == (0,)

    reply = await http.post(
        "/api/messages",
        json={"topic": "general", "body": "in thread", "thread": root["id"], "reply_to": root["id"]},
        headers=auth,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["thread"] == root["id"] and reply.json()["reply_to"]["sender"] == "alice"
    assert (await bob.next("thread:updated"))["thread_summary"]["participants"] == ["carol"]
    thread = await http.get(f"/api/messages/{root['id']}/thread", params={"limit": 10}, headers=auth)
    assert [m["body"] for m in thread.json()["messages"]] == ["in thread"]

    notify = await http.put("/api/topics/general/notify", json={"level": "none"}, headers=auth)
    assert notify.status_code == 200 and notify.json()["notify"] == "none"

    forbidden = await http.put(f"/api/messages/{root['id']}/pin", headers=auth)
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    await alice.ok("message:pin", {"id": root["id"]})
    pins = await http.get("/api/topics/general/pins", headers=auth)
    assert [m["id"] for m in pins.json()["pins"]] == [root["id"]]


@pytest.mark.parametrize("emoji", ["%20", "a%20b", "x" * 33])
async def test_a_bad_emoji_in_the_path_is_422_invalid(live_server, emoji):
    alice = await live_server.user("alice")
    token = await live_server.register("bob")
    await general_with(alice)
    message = await send(alice, {"topic": "general", "body": "hi"})

    response = await live_server.http.put(
        f"/api/messages/{message['id']}/reactions/{emoji}", headers=bearer(token)
    )

    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid"
    assert await count_rows(live_server, Reaction) == (0,)
