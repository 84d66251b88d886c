"""Blocking (PROTOCOL.md section 10) over Socket.IO and REST, on both databases.

When A blocks B: B's direct messages and invites to A are ``forbidden`` ("cannot message this
user"), no new direct conversation starts between them either way, typing and presence stop
between them both ways, and in shared topics B's messages reach A ``blocked: true`` (live, in
history, in the backlog and recovery) and count in neither A's ``unread`` nor ``mentions``.
Unblocking restores all of it for what follows.

To show that an event does not come, a later event that must come on the same socket is awaited
first (a marker): what was published before it would have been queued before it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from db.models import Block, Membership, Message, Topic
from tests.contract import error_code
from tests.edge.sio.recovery_socket import RecoverySocket
from tests.support import Client, LiveServer, bearer, count_rows, running_on, send
from tests.support import test_settings as settings_for

# One server a database for the module; each test has its own users and topics (``names``).
pytestmark = pytest.mark.asyncio(loop_scope="module")
CANNOT = "cannot message this user"


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """A recovery margin of 0: a replay is exactly what came after the offset."""
    data_dir = tmp_path_factory.mktemp("blocking") / "data"
    async with running_on(settings_for(data_dir, recovery_margin=0), request.param) as server:
        yield server


class Names:
    """``names.alice`` is ``alice-<suffix>``, one suffix a test: its own users and topics."""

    def __init__(self) -> None:
        self.suffix = uuid.uuid4().hex[:6]

    def __getattr__(self, name: str) -> str:
        return f"{name}-{self.suffix}"


@pytest.fixture
def names() -> Names:
    return Names()


def refused(ack: dict[str, Any]) -> None:
    """A blocking refusal, word for word."""
    assert error_code(ack) == "forbidden"
    assert ack["error"]["message"] == CANNOT


async def users(live_server: LiveServer, *names: str) -> list[Client]:
    return [await live_server.user(name) for name in names]


async def in_general(general: str, owner: Client, *members: Client) -> None:
    """``owner`` creates the public topic ``general``; ``members`` subscribe."""
    await owner.ok("topic:create", {"name": general})
    for member in members:
        await member.ok("topic:subscribe", {"topic": general})


def topic_named(topics: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in topics["topics"] if t["name"] == name)


# The list -------------------------------------------------------------------------------------


async def test_block_unblock_and_the_list_over_socketio_and_rest(
    live_server: LiveServer, names: Names
) -> None:
    token = await live_server.register(names.alice)
    alice = await live_server.connect(names.alice, token)
    await users(live_server, names.bob, names.carol)
    blocks_before = await count_rows(live_server, Block)

    assert await alice.ok("user:block", {"username": names.bob.upper()}) == {}
    assert await alice.ok("user:block", {"username": names.bob}) == {}  # idempotent
    put = await live_server.http.put(f"/api/users/me/blocks/{names.carol}", headers=bearer(token))
    assert put.status_code == 200 and put.json() == {}
    assert await alice.ok("user:blocks", {}) == {"users": [names.bob, names.carol]}
    listed = await live_server.http.get("/api/users/me/blocks", headers=bearer(token))
    assert listed.json() == {"users": [names.bob, names.carol]}

    assert await alice.ok("user:unblock", {"username": names.bob}) == {}
    assert await alice.ok("user:unblock", {"username": names.bob}) == {}  # a no-op
    gone = await live_server.http.delete(f"/api/users/me/blocks/{names.carol}", headers=bearer(token))
    assert gone.status_code == 200
    assert await alice.ok("user:blocks", {}) == {"users": []}
    assert await count_rows(live_server, Block) == blocks_before  # no row left behind

    assert error_code(await alice.call("user:block", {"username": "nobody"})) == "not_found"
    assert error_code(await alice.call("user:block", {"username": names.alice})) == "invalid"
    assert error_code(await alice.call("user:block", {"username": 5})) == "invalid"
    missing = await live_server.http.put("/api/users/me/blocks/nobody", headers=bearer(token))
    assert missing.status_code == 404
    assert (await live_server.http.get("/api/users/me/blocks")).status_code == 401


# Refusals -------------------------------------------------------------------------------------


async def test_the_blocked_user_cannot_send_a_direct_message_and_nothing_is_stored(
    live_server: LiveServer, names: Names
) -> None:
    alice = await live_server.user(names.alice)
    bob_token = await live_server.register(names.bob)
    bob = await live_server.connect(names.bob, bob_token)
    hello = await send(bob, {"to": names.alice, "body": "hello"})
    assert (await alice.next("message"))["body"] == "hello"
    await alice.ok("user:block", {"username": names.bob})
    edited = await bob.ok("message:edit", {"id": hello["id"], "body": "hello!"})
    assert edited["blocked"] is False
    assert await alice.next("message:edited") == {**edited, "topic": f"@{names.bob}", "blocked": True}
    page = await alice.ok("history", {"with": names.bob})
    assert [m["blocked"] for m in page["messages"]] == [True]
    before = await count_rows(live_server, Message, Topic)

    refused(await bob.call("message:send", {"to": names.alice, "body": "again"}))
    refused(await bob.call("message", {"topic_name": names.alice, "content": "legacy"}))
    rest = await live_server.http.post(
        "/api/messages", json={"to": names.alice, "body": "by rest"}, headers=bearer(bob_token)
    )
    assert rest.status_code == 403 and rest.json()["error"]["message"] == CANNOT

    assert await count_rows(live_server, Message, Topic) == before
    await alice.ok("user:unblock", {"username": names.bob})
    restored = await send(bob, {"to": names.alice, "body": "friends again"})
    assert (await alice.next("message"))["id"] == restored["id"]


async def test_no_new_direct_conversation_starts_either_way(live_server: LiveServer, names: Names) -> None:
    alice_token = await live_server.register(names.alice)
    alice = await live_server.connect(names.alice, alice_token)
    bob = await live_server.user(names.bob)
    await alice.ok("user:block", {"username": names.bob})
    before = await count_rows(live_server, Message, Topic, Membership)

    refused(await bob.call("message:send", {"to": names.alice, "body": "hi"}))
    refused(await alice.call("message:send", {"to": names.bob, "body": "hi"}))
    opened = await live_server.http.post(
        "/api/conversations", json={"recipient": names.bob}, headers=bearer(alice_token)
    )
    assert opened.status_code == 403 and opened.json()["error"]["message"] == CANNOT

    assert await count_rows(live_server, Message, Topic, Membership) == before
    await alice.ok("user:unblock", {"username": names.bob})
    assert (await send(alice, {"to": names.bob, "body": "hi"}))["seq"] == 1


async def test_the_blocked_user_cannot_invite_the_blocker(live_server: LiveServer, names: Names) -> None:
    alice, bob = await users(live_server, names.alice, names.bob)
    await bob.ok("topic:create", {"name": names.den, "private": True})
    await alice.ok("user:block", {"username": names.bob})
    before = await count_rows(live_server, Membership)

    refused(await bob.call("topic:invite", {"topic": names.den, "username": names.alice}))
    refused(await bob.call("invite", {"topic_name": names.den, "username": names.alice}))

    assert await count_rows(live_server, Membership) == before
    # The blocker may still invite the one it blocked.
    await alice.ok("topic:create", {"name": names.nook, "private": True})
    await alice.ok("topic:invite", {"topic": names.nook, "username": names.bob})
    await alice.ok("user:unblock", {"username": names.bob})
    await bob.ok("topic:invite", {"topic": names.den, "username": names.alice})
    assert (await alice.next("topic:invited"))["topic"]["name"] == names.den


# Shared topics: the flag and the counts -------------------------------------------------------


async def test_the_blocker_sees_the_blocked_users_messages_flagged_and_nobody_else_does(
    live_server: LiveServer, names: Names
) -> None:
    alice, bob, carol = await users(live_server, names.alice, names.bob, names.carol)
    await in_general(names.general, carol, alice, bob)
    await alice.ok("user:block", {"username": names.bob})

    sent = await send(bob, {"topic": names.general, "body": f"hi @{names.alice}"})
    assert sent["blocked"] is False  # the sender's ack
    assert (await alice.next("message")) == {**sent, "blocked": True}
    assert (await carol.next("message")) == sent
    assert (await bob.next("message")) == sent

    edited = await bob.ok("message:edit", {"id": sent["id"], "body": f"edited @{names.alice}"})
    assert (await alice.next("message:edited")) == {**edited, "blocked": True}
    assert (await carol.next("message:edited"))["blocked"] is False

    theirs = await send(carol, {"topic": names.general, "body": "carol speaks"})
    assert (await alice.next("message")) == theirs  # unflagged

    alices = (await alice.ok("history", {"topic": names.general}))["messages"]
    assert [(m["sender"], m["blocked"]) for m in alices] == [(names.bob, True), (names.carol, False)]
    carols = (await carol.ok("history", {"topic": names.general}))["messages"]
    assert [m["blocked"] for m in carols] == [False, False]
    subscribed = await alice.ok("topic:subscribe", {"topic": names.general})
    assert [m["blocked"] for m in subscribed["history"]] == [True, False]
    await carol.ok("message:pin", {"id": sent["id"]})
    assert [p["blocked"] for p in (await alice.ok("topic:pins", {"topic": names.general}))["pins"]] == [True]
    assert [p["blocked"] for p in (await carol.ok("topic:pins", {"topic": names.general}))["pins"]] == [False]


async def test_unread_and_mentions_leave_out_the_blocked_sender(
    live_server: LiveServer, names: Names
) -> None:
    alice, bob, carol = await users(live_server, names.alice, names.bob, names.carol)
    await in_general(names.general, carol, alice, bob)
    await alice.ok("user:block", {"username": names.bob})

    await send(bob, {"topic": names.general, "body": f"@{names.alice} look"})
    await send(bob, {"topic": names.general, "body": "@all look"})
    await send(carol, {"topic": names.general, "body": f"@{names.alice} hello"})

    general = topic_named(await alice.ok("topic:list", {}), names.general)
    assert (general["unread"], general["mentions"]) == (1, 1)
    carols = topic_named(await carol.ok("topic:list", {}), names.general)
    assert carols["unread"] == 2

    await alice.ok("user:unblock", {"username": names.bob})
    general = topic_named(await alice.ok("topic:list", {}), names.general)
    assert (general["unread"], general["mentions"]) == (3, 3)  # counts are read as they are now


async def test_the_backlog_flags_the_blocked_senders_messages_for_the_blocker(
    live_server: LiveServer, names: Names
) -> None:
    alice_token = await live_server.register(names.alice)
    alice = await live_server.connect(names.alice, alice_token)
    bob, carol = await users(live_server, names.bob, names.carol)
    await in_general(names.general, carol, alice, bob)
    await alice.ok("user:block", {"username": names.bob})
    await alice.close()

    from_bob = await send(bob, {"topic": names.general, "body": "while you were away"})
    from_carol = await send(carol, {"topic": names.general, "body": "me too"})

    back = await live_server.connect(names.alice, alice_token)
    got = [await back.next("message"), await back.next("message")]
    assert got == [{**from_bob, "blocked": True}, from_carol]


async def test_a_recovery_replay_flags_the_blocked_senders_messages(
    live_server: LiveServer, names: Names
) -> None:
    token = await live_server.register(names.alice)
    bob, carol = await users(live_server, names.bob, names.carol)
    await carol.ok("topic:create", {"name": names.general})
    await bob.ok("topic:subscribe", {"topic": names.general})
    assert (
        await live_server.http.post(f"/api/topics/{names.general}/subscribe", headers=bearer(token))
    ).is_success
    assert (await live_server.http.put(f"/api/users/me/blocks/{names.bob}", headers=bearer(token))).is_success
    dropped = await RecoverySocket.connect(live_server.url, {"token": token, "recover": True})
    await dropped.next("session")
    await send(carol, {"topic": names.general, "body": "seen"})
    offset = (await dropped.messages(1))[-1][-1]
    await dropped.close()

    from_bob = await send(bob, {"topic": names.general, "body": "missed"})
    from_carol = await send(carol, {"topic": names.general, "body": "missed too"})

    back = await RecoverySocket.connect(
        live_server.url, {"token": token, "pid": dropped.pid, "offset": offset}
    )
    await back.next("session")
    assert back.reply["pid"] == dropped.pid
    assert [args[0] for args in await back.messages(2)] == [{**from_bob, "blocked": True}, from_carol]
    await back.close()


async def test_unblocking_restores_delivery_as_before(live_server: LiveServer, names: Names) -> None:
    alice, bob, carol = await users(live_server, names.alice, names.bob, names.carol)
    await in_general(names.general, carol, alice, bob)
    await alice.ok("user:block", {"username": names.bob})
    await alice.ok("user:unblock", {"username": names.bob})

    sent = await send(bob, {"topic": names.general, "body": "back"})
    assert (await alice.next("message")) == sent and sent["blocked"] is False
    history = (await alice.ok("history", {"topic": names.general}))["messages"]
    assert [m["blocked"] for m in history] == [False]


# Typing and presence --------------------------------------------------------------------------


async def test_typing_stops_both_ways_between_blocked_users(live_server: LiveServer, names: Names) -> None:
    alice, bob, carol = await users(live_server, names.alice, names.bob, names.carol)
    await in_general(names.general, carol, alice, bob)
    await send(alice, {"to": names.bob, "body": "before"})
    await alice.ok("user:block", {"username": names.bob})

    await bob.ok("typing", {"topic": names.general, "typing": True})
    await alice.ok("typing", {"topic": names.general, "typing": True})
    await alice.ok("typing", {"to": names.bob, "typing": True})
    await carol.ok("typing", {"topic": names.general, "typing": True})  # the marker

    assert (await alice.next("typing"))["username"] == names.carol
    assert (await bob.next("typing"))["username"] == names.carol
    assert [e for e in alice.pending("typing") if e["username"] == names.bob] == []
    assert [e for e in bob.pending("typing") if e["username"] == names.alice] == []
    assert {(await carol.next("typing"))["username"] for _ in range(2)} == {names.alice, names.bob}

    await alice.ok("user:unblock", {"username": names.bob})
    await bob.ok("typing", {"topic": names.general, "typing": False})
    while (event := await alice.next("typing"))["username"] == names.carol:  # carol's may expire first
        pass
    assert event == {"topic": names.general, "username": names.bob, "typing": False}


async def test_presence_stops_both_ways_between_blocked_users(live_server: LiveServer, names: Names) -> None:
    alice = await live_server.user(names.alice)
    bob_token = await live_server.register(names.bob)
    bob = await live_server.connect(names.bob, bob_token)
    carol = await live_server.user(names.carol)
    await alice.ok("topic:create", {"name": names.secret, "private": True})
    for name in (names.bob, names.carol):
        await alice.ok("topic:invite", {"topic": names.secret, "username": name})
    await alice.ok("user:block", {"username": names.bob})

    await bob.close()
    gone = await carol.next("presence")
    assert (gone["username"], gone["online"], gone["availability"]) == (names.bob, False, "offline")
    back = await live_server.connect(names.bob, bob_token)
    assert await carol.next("presence") == {
        "username": names.bob,
        "online": True,
        "last_seen": None,
        "availability": "online",
    }
    await alice.ok("topic:list", {})  # a round trip after the announcements reached carol
    assert alice.pending("presence") == []

    await alice.close()
    assert (await carol.next("presence"))["username"] == names.alice
    await back.ok("topic:list", {})
    assert back.pending("presence") == []
    profile = await live_server.http.get(f"/api/users/{names.alice}", headers=bearer(bob_token))
    assert profile.json()["online"] is None and profile.json()["last_seen"] is None
    assert profile.json()["availability"] is None
