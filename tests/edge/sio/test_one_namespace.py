"""Topic names and usernames are one namespace (PROTOCOL.md section 3, amended).

The original protocol's ``message {topic_name}`` sends to the topic of that name, or else to the
user: a public topic named like a user would take that user's direct messages (the "DM hijack").
So a topic may not take a registered username and an account may not take a topic's name, in any
case, by any path that creates either.
"""

from __future__ import annotations

import asyncio

import pytest

from db.models import Message, Topic
from server.chat.kernel.errors import ChatError, ErrorCode
from tests.contract import error_code
from tests.edge.gateway.wsclient import opened
from tests.support import PASSWORD, LiveServer, bearer, count, count_rows


@pytest.mark.both_databases
async def test_a_topic_named_like_a_user_cannot_take_their_direct_messages(live_server: LiveServer):
    bobby = await live_server.user("bobby")
    alice = await live_server.user("alice")
    mallory = await live_server.user("mallory")

    for event, payload in [
        ("topic:create", {"name": "bobby"}),
        ("create", {"topic_name": "BOBBY", "is_private": False}),
        ("topic:create", {"name": "Bobby", "private": True}),
    ]:
        assert error_code(await mallory.call(event, payload)) == "conflict", payload
    assert await count(live_server, Topic) == 1  # lobby only

    sent = await alice.ok("message", {"topic_name": "bobby", "content": "for your eyes only"})
    assert (sent["topic"], sent["kind"]) == ("@bobby", "direct")
    assert (await bobby.next("message"))["body"] == "for your eyes only"
    assert mallory.pending("message") == []


async def test_the_topics_dialect_cannot_squat_a_username_either(live_server: LiveServer):
    bobby = await live_server.user("bobby")
    mallory_token = await live_server.register("mallory")
    alice_token = await live_server.register("alice")
    async with opened(live_server, f"/compat/topics/{mallory_token}") as mallory:
        await mallory.recv()  # connected
        await mallory.send({"action": "create", "topic_name": "bobby"})
        answer = await mallory.until({"action": "create"})
        assert (answer["ok"], answer["error"]["code"]) == (False, "conflict")
    refused = await live_server.http.post(
        "/api/topics", json={"name": "BobbY"}, headers=bearer(mallory_token)
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "conflict")

    async with opened(live_server, f"/compat/topics/{alice_token}") as alice:
        await alice.recv()  # connected
        await alice.send({"action": "message", "topic_name": "bobby", "content": "psst"})
        answer = await alice.until({"action": "message", "ok": True})
        assert answer["data"]["topic"] == "@bobby"
    assert (await bobby.next("message"))["topic"] == "@alice"


@pytest.mark.parametrize("name", ["lobby", "Kitchen", "KITCHEN"])
async def test_registering_a_topics_name_is_a_conflict_on_every_path(live_server: LiveServer, name: str):
    owner = await live_server.user("owner")
    await owner.ok("topic:create", {"name": "kitchen", "private": True})
    http = live_server.http
    credentials = {"username": name, "password": PASSWORD}

    rest = await http.post("/api/users", json=credentials)
    echo = await http.post("/compat/echo/register", json=credentials)
    messenger = await http.post("/compat/messenger/user", json={"Username": name, "Password": PASSWORD})

    assert (rest.status_code, rest.json()["error"]["code"]) == (409, "conflict")
    assert echo.status_code == 400 and echo.json()["detail"] == rest.json()["error"]["message"]
    assert messenger.status_code == 409
    with pytest.raises(ChatError, match="taken") as refused:
        await live_server.chat.users.create(name, PASSWORD)  # `parley user create`
    assert refused.value.code == ErrorCode.CONFLICT
    assert await live_server.chat.users.issue_token("owner")  # the one account there is


async def test_an_operator_cannot_rename_a_topic_to_a_username(live_server: LiveServer):
    owner = await live_server.user("owner")
    await owner.ok("topic:create", {"name": "kitchen"})
    with pytest.raises(ChatError, match=r"(?i)owner") as refused:
        await live_server.chat.topic_admin.rename("kitchen", "OWNER")
    assert refused.value.code == ErrorCode.CONFLICT
    assert (await owner.ok("topic:subscribe", {"topic": "kitchen"}))["topic"]["name"] == "kitchen"


@pytest.mark.both_databases
async def test_a_sign_up_and_a_topic_racing_for_one_name_never_both_win(live_server: LiveServer):
    creator = await live_server.user("creator")
    names = [f"racer{i}" for i in range(12)]

    async def sign_up(name: str) -> int:
        response = await live_server.http.post("/api/users", json={"username": name, "password": PASSWORD})
        return response.status_code

    async def create(name: str) -> bool:
        return bool((await creator.call("topic:create", {"name": name.upper()}))["ok"])

    outcomes = await asyncio.gather(*(asyncio.gather(sign_up(n), create(n)) for n in names))

    for (status, created), name in zip(outcomes, names, strict=True):
        assert (status == 201) != created, (name, status, created)  # exactly one of them
    users_and_topics = await count_rows(live_server, Topic, Message)
    assert users_and_topics[1] == 0
