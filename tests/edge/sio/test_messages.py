"""Messages over Socket.IO: direct conversations, idempotent sends and history pages (PROTOCOL.md 3).

One server per module (``server``), each test with its own users and topics (``names``); the
tests marked ``both_databases`` (concurrent and idempotent stores, history's queries, stored bodies)
run on PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from db.models import Message, Topic
from tests.contract import MESSAGE_FIELDS, error_code
from tests.edge.sio.logs import captured
from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import WAIT, Client, LiveServer, bearer, count, running, send

pytestmark = pytest.mark.asyncio(loop_scope="module")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    databases_of(metafunc)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory, request) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory, request.param) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest.fixture
def names() -> Names:
    return Names()


def seqs(page: dict[str, Any]) -> list[int]:
    return [m["seq"] for m in page["messages"]]


async def general_with(names: Names, owner: Client, *members: Client) -> None:
    """``owner`` creates the test's public topic ``names.general``; ``members`` subscribe."""
    await owner.ok("topic:create", {"name": names.general})
    for member in members:
        await member.ok("topic:subscribe", {"topic": names.general})


def listed(client_topics: dict[str, Any], names: Names) -> dict[str, dict[str, Any]]:
    """A ``topic:list`` answer by name, less the public topics of other tests (a shared server lists
    them all): ``lobby``, direct conversations and this test's topics."""
    mine = {"lobby", names.general, names.secret}
    return {t["name"]: t for t in client_topics["topics"] if t["name"] in mine or t["name"].startswith("@")}


# Direct messages ------------------------------------------------------------


@pytest.mark.both_databases
async def test_direct_messages_go_both_ways_and_each_side_sees_the_other_name(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)

    sent = await send(alice, {"to": names.bob, "body": "hi bob"})
    reply = await send(bob, {"to": names.alice.upper(), "body": "hi alice"})

    assert MESSAGE_FIELDS <= set(sent)
    assert sent["topic"] == "@" + names.bob and sent["kind"] == "direct" and sent["seq"] == 1
    assert reply["topic"] == "@" + names.alice and reply["kind"] == "direct" and reply["seq"] == 2
    assert reply["sender"] == names.bob
    # Each side's sockets see both messages, named after the other side.
    assert await bob.next("message") == {**sent, "topic": "@" + names.alice}
    assert await bob.next("message") == reply
    assert await alice.next("message") == sent
    assert await alice.next("message") == {**reply, "topic": "@" + names.bob}


async def test_each_direct_conversation_has_its_own_seq(live_server, names):
    alice = await live_server.user(names.alice)
    await live_server.user(names.bob)
    await live_server.user(names.carol)

    assert (await send(alice, {"to": names.bob, "body": "1"}))["seq"] == 1
    assert (await send(alice, {"to": names.carol, "body": "1"}))["seq"] == 1
    assert (await send(alice, {"to": names.bob, "body": "2"}))["seq"] == 2
    await alice.ok("topic:create", {"name": names.general})
    assert (await send(alice, {"topic": names.general, "body": "1"}))["seq"] == 1


@pytest.mark.both_databases
async def test_a_direct_conversation_is_listed_for_both_users(live_server, names):
    alice = await live_server.user(names.alice)
    bob_token = await live_server.register(names.bob)
    bob = await live_server.connect(names.bob, bob_token)
    carol_token = await live_server.register(names.carol)
    await send(alice, {"to": names.bob, "body": "hi"})

    alices = listed(await alice.ok("topic:list", {}), names)
    bobs = listed(await bob.ok("topic:list", {}), names)

    assert set(alices) == {"lobby", "@" + names.bob} and set(bobs) == {"lobby", "@" + names.alice}
    assert alices["@" + names.bob] == {
        **alices["@" + names.bob],
        "kind": "direct",
        "owner": None,
        "members": 2,
        "online": 2,
        "subscribed": True,
        "last_seq": 1,
        "unread": 0,
    }
    assert bobs["@" + names.alice]["unread"] == 1
    over_rest = await live_server.http.get("/api/conversations", headers=bearer(bob_token))
    assert over_rest.status_code == 200
    assert over_rest.json() == {"topics": [bobs["@" + names.alice]]}
    carols = await live_server.http.get("/api/conversations", headers=bearer(carol_token))
    assert carols.json() == {"topics": []}


async def test_history_with_a_user_pages_the_direct_conversation(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    for n in range(3):
        await send(
            alice if n % 2 == 0 else bob, {"to": names.bob if n % 2 == 0 else names.alice, "body": f"m{n}"}
        )

    mine = await alice.ok("history", {"with": names.bob})
    theirs = await bob.ok("history", {"with": names.alice.capitalize(), "limit": 2})

    assert seqs(mine) == [1, 2, 3] and mine["has_more"] is False
    assert {m["topic"] for m in mine["messages"]} == {"@" + names.bob}
    assert [m["body"] for m in mine["messages"]] == ["m0", "m1", "m2"]
    assert seqs(theirs) == [2, 3] and theirs["has_more"] is True
    assert {m["topic"] for m in theirs["messages"]} == {"@" + names.alice}


async def test_history_with_someone_never_talked_to_is_empty(live_server, names):
    alice = await live_server.user(names.alice)
    await live_server.register(names.bob)
    assert await alice.ok("history", {"with": names.bob}) == {"messages": [], "has_more": False}


async def test_a_third_user_sees_nothing_of_a_direct_conversation(live_server, names):
    alice = await live_server.user(names.alice)
    await live_server.user(names.bob)
    carol = await live_server.user(names.carol)

    await send(alice, {"to": names.bob, "body": "private"})
    marker = await send(alice, {"topic": "lobby", "body": "marker"})

    assert (await carol.next("message"))["id"] == marker["id"]
    assert set(listed(await carol.ok("topic:list", {}), names)) == {"lobby"}


async def test_messaging_yourself_is_invalid_and_an_unknown_user_is_not_found(live_server, names):
    alice = await live_server.user(names.alice)
    topics, messages = await count(live_server, Topic), await count(live_server, Message)

    assert error_code(await alice.call("message:send", {"to": names.alice, "body": "me"})) == "invalid"
    assert (
        error_code(await alice.call("message:send", {"to": names.alice.upper(), "body": "me"})) == "invalid"
    )
    assert error_code(await alice.call("message:send", {"to": "nobody", "body": "hi"})) == "not_found"
    assert error_code(await alice.call("history", {"with": names.alice})) == "invalid"
    assert error_code(await alice.call("history", {"with": "nobody"})) == "not_found"
    assert (await count(live_server, Topic), await count(live_server, Message)) == (topics, messages)


# client_id ------------------------------------------------------------------


@pytest.mark.both_databases
async def test_resending_a_client_id_returns_the_original_and_stores_nothing(live_server, names):
    alice = await live_server.user(names.alice)
    await alice.ok("topic:create", {"name": names.general})
    before = await count(live_server, Message)

    first = await send(alice, {"topic": names.general, "body": "once", "client_id": "c-1"})
    again = await send(alice, {"topic": names.general, "body": "changed?", "client_id": "c-1"})

    assert first["client_id"] == "c-1"
    assert again == first
    assert await count(live_server, Message) == before + 1
    assert (await send(alice, {"topic": names.general, "body": "next"}))["seq"] == 2


@pytest.mark.both_databases
@pytest.mark.parametrize("kind", ["topic", "direct"])
async def test_concurrent_sends_of_one_client_id_store_one_message(live_server, kind, names):
    alice = await live_server.user(names.alice)
    await live_server.register(names.bob)
    await alice.ok("topic:create", {"name": names.general})
    before = await count(live_server, Message)
    target = {"topic": {"topic": names.general}, "direct": {"to": names.bob}}[kind]
    payload = {**target, "body": "racing", "client_id": "same"}

    acks = await asyncio.gather(*(send(alice, payload) for _ in range(5)))

    assert len({ack["id"] for ack in acks}) == 1
    assert {ack["seq"] for ack in acks} == {1}
    assert await count(live_server, Message) == before + 1


@pytest.mark.both_databases
async def test_resending_a_client_id_towards_someone_new_opens_no_conversation(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    original = await send(alice, {"topic": "lobby", "body": "once", "client_id": "c-1"})
    topics = await count(live_server, Topic)

    again = await send(alice, {"to": names.bob, "body": "once", "client_id": "c-1"})

    assert again == original
    assert await count(live_server, Topic) == topics
    assert set(listed(await bob.ok("topic:list", {}), names)) == {"lobby"}


async def test_the_same_client_id_from_another_user_is_another_message(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await general_with(names, alice, bob)
    before = await count(live_server, Message)

    mine = await send(alice, {"topic": names.general, "body": "a", "client_id": "shared"})
    theirs = await send(bob, {"topic": names.general, "body": "b", "client_id": "shared"})

    assert mine["id"] != theirs["id"]
    assert (mine["seq"], theirs["seq"]) == (1, 2)
    assert (mine["sender"], theirs["sender"]) == (names.alice, names.bob)
    assert await count(live_server, Message) == before + 2


async def test_a_client_id_is_one_to_64_characters(live_server, names):
    alice = await live_server.user(names.alice)
    before = await count(live_server, Message)

    longest = await send(alice, {"topic": "lobby", "body": "ok", "client_id": "x" * 64})
    too_long = await alice.call("message:send", {"topic": "lobby", "body": "no", "client_id": "y" * 65})

    assert longest["client_id"] == "x" * 64
    assert error_code(too_long) == "invalid"
    assert await count(live_server, Message) == before + 1


# Bodies -----------------------------------------------------------------------


@pytest.mark.parametrize("char", ["é", "😀", "中"])
@pytest.mark.both_databases
async def test_a_body_of_4000_code_points_is_accepted_and_4001_refused(live_server, char, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    before = await count(live_server, Message)

    sent = await send(alice, {"topic": "lobby", "body": char * 4000})
    refused = await alice.call("message:send", {"topic": "lobby", "body": char * 4001})

    assert sent["body"] == char * 4000
    assert (await bob.next("message"))["body"] == char * 4000
    assert error_code(refused) == "invalid"
    assert await count(live_server, Message) == before + 1


# History pages ----------------------------------------------------------------


async def seed(client: Client, topic: str, total: int) -> None:
    acks = await asyncio.gather(*(send(client, {"topic": topic, "body": f"m{n}"}) for n in range(total)))
    assert sorted(ack["seq"] for ack in acks) == list(range(1, total + 1))


# (payload beyond the topic, expected seqs, has_more)
PAGES: list[tuple[dict[str, Any], range, bool]] = [
    ({"limit": 1}, range(120, 121), True),
    ({}, range(71, 121), True),
    ({"limit": 50}, range(71, 121), True),
    ({"limit": 200}, range(1, 121), False),
    ({"limit": 120}, range(1, 121), False),
    ({"limit": 119}, range(2, 121), True),
    ({"before_seq": 1}, range(0), False),
    ({"before_seq": 2, "limit": 200}, range(1, 2), False),
    ({"before_seq": 61, "limit": 10}, range(51, 61), True),
    ({"before_seq": 51, "limit": 50}, range(1, 51), False),
    ({"before_seq": 52, "limit": 50}, range(2, 52), True),
    ({"before_seq": 121}, range(71, 121), True),
    ({"before_seq": 10_000, "limit": 200}, range(1, 121), False),
]


@pytest.mark.both_databases
async def test_history_pages_are_newest_first_and_oldest_first_inside(live_server, names):
    alice = await live_server.user(names.alice)
    await alice.ok("topic:create", {"name": names.general})
    await seed(alice, names.general, 120)

    for extra, expected, has_more in PAGES:
        page = await alice.ok("history", {"topic": names.general, **extra})
        assert set(page) == {"messages", "has_more"}
        assert (seqs(page), page["has_more"]) == (list(expected), has_more), extra

    walked: list[int] = []
    before: int | None = None
    while True:
        page = await alice.ok(
            "history", {"topic": names.general, "limit": 50, "before_seq": before or 10_000}
        )
        walked = seqs(page) + walked
        if not page["has_more"]:
            break
        before = page["messages"][0]["seq"]
    assert walked == list(range(1, 121))


async def test_history_limits_outside_1_to_200_are_invalid(live_server, names):
    alice = await live_server.user(names.alice)
    for payload in ({"limit": 0}, {"limit": 201}, {"limit": -1}, {"before_seq": 0}):
        assert error_code(await alice.call("history", {"topic": "lobby", **payload})) == "invalid", payload


async def test_history_of_a_public_topic_is_open_to_non_members(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.general})
    await send(alice, {"topic": names.general, "body": "visible"})

    page = await bob.ok("history", {"topic": names.general})
    members = await bob.ok("topic:members", {"topic": names.general})

    assert [m["body"] for m in page["messages"]] == ["visible"]
    assert [m["username"] for m in members["members"]] == [names.alice]


# Bursts (group commit) ----------------------------------------------------------


@pytest.mark.both_databases
async def test_a_burst_with_bad_messages_fails_only_their_acks(live_server, names):
    alice = await live_server.user(names.alice)
    mallory = await live_server.user(names.mallory)
    await alice.ok("topic:create", {"name": names.secret, "private": True})
    before = await count(live_server, Message)

    good = [alice.call("message:send", {"topic": names.secret, "body": f"m{i}"}) for i in range(30)]
    bad = [
        alice.call("message:send", {"topic": names.secret, "body": "x" * 4001}),
        mallory.call("message:send", {"topic": names.secret, "body": "let me in"}),
    ]
    acks = await asyncio.gather(*good[:15], *bad, *good[15:])

    assert [error_code(a) for a in acks[15:17]] == ["invalid", "not_found"]
    oks = acks[:15] + acks[17:]
    assert all(a["ok"] for a in oks)
    assert sorted(a["data"]["seq"] for a in oks) == list(range(1, 31))
    assert await count(live_server, Message) == before + 30


@asynccontextmanager
async def held_topic_row(database: str, url: str, settings: Any, name: str) -> AsyncIterator[None]:
    """Another writer holds ``name``'s row (PostgreSQL) or the database's write lock (SQLite)."""
    if database == "postgres":
        connection = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            async with connection.transaction():
                await connection.execute("SELECT 1 FROM topics WHERE name = $1 FOR UPDATE", name)
                yield
        finally:
            await connection.close()
        return
    # Off the loop: the servers share this loop, and a blocking wait for the write lock here
    # stalls whichever of their transactions holds it between two awaits (both wait until
    # sqlite3's 5 s timeout: "database is locked", seen in CI).
    path = make_url(settings.resolved_database_url).database
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10 * WAIT)
    try:
        await asyncio.to_thread(connection.execute, "BEGIN IMMEDIATE")
        yield
        await asyncio.to_thread(connection.execute, "COMMIT")
    finally:
        connection.close()


WAITING = """SELECT count(*) >= $1 FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND datname = current_database()"""


async def waiting_on_locks(url: str, count: int) -> None:
    """Until ``count`` other backends wait on a lock (a condition, polled with a deadline)."""
    connection = await asyncpg.connect(url)
    try:
        async with asyncio.timeout(10 * WAIT):
            while await connection.fetchval(WAITING, count) is False:
                await asyncio.sleep(0.01)
    finally:
        await connection.close()


@pytest.mark.both_databases
async def test_a_resend_racing_a_commit_on_another_node_gets_the_original(live_server, names):
    """Two nodes store one client_id while neither batch has committed: one message, one answer.

    The topic's row is held locked (PostgreSQL: both batches wait in their statement, after
    neither saw the other's row; SQLite: both wait for the write lock) until both sends are in.
    """
    settings = live_server.app.state.settings
    url = settings.database_url or ""
    database = "postgres" if url else "sqlite"
    alice_token = await live_server.register(names.alice)
    alice = await live_server.connect(names.alice, alice_token)
    before = await count(live_server, Message)
    payload = {"topic": "lobby", "body": "racing", "client_id": "across-nodes"}
    async with running(settings) as other:
        again = await other.connect(names.alice, alice_token)
        with captured() as logs:
            async with held_topic_row(database, url, settings, "lobby"):
                sends = [asyncio.ensure_future(send(c, payload)) for c in (alice, again)]
                if database == "postgres":
                    await waiting_on_locks(url.replace("+asyncpg", ""), 2)
            acks = await asyncio.gather(*sends)

    assert acks[0]["id"] == acks[1]["id"]
    assert acks[0] == acks[1]
    assert await count(live_server, Message) == before + 1
    assert logs.tracebacks() == []
