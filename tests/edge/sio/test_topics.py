"""Topics over Socket.IO: fan-out, subscriptions, listings and private topics (PROTOCOL.md 3, 4).

One server per module and database (``server``); each test has its own users and topics
(``names``: ``names.alice`` is ``alice`` with the test's number), so tests meet no one else's
rows, whatever their order. The tests marked ``both_databases`` (stored history, memberships,
listings and unread counts, names matched in any case) run on PostgreSQL too. The one test that
counts the lobby's members and who is online has a server of its own (``own_server``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from db.models import Membership, Topic
from tests.contract import MEMBER_FIELDS, TOPIC_FIELDS, error_code, is_utc_iso, shown
from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import Client, LiveServer, count, running_on, two_sockets
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    databases_of(metafunc)
    databases_of(metafunc, "own_server")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory, request) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory, request.param) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest_asyncio.fixture(loop_scope="module")
async def own_server(tmp_path: Path, request) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    """A fresh server for a test that counts everyone (the lobby's members, who is online)."""
    async with running_on(settings_for(tmp_path / "data"), request.param) as live:
        yield live


@pytest.fixture
def names() -> Names:
    return Names()


async def send(client: Client, topic: str, body: str) -> dict[str, Any]:
    message: dict[str, Any] = await client.ok("message:send", {"topic": topic, "body": body})
    return message


async def listed(client: Client, names: Names | None = None) -> dict[str, dict[str, Any]]:
    """``topic:list`` by name; with ``names``, less the public topics of other tests (a shared
    server lists them all): the lobby and this test's topics."""
    data = await client.ok("topic:list", {})
    topics = {topic["name"]: topic for topic in data["topics"]}
    if names is None:
        return topics
    mine = re.compile(rf".*\D{names.number}")  # a name of this test's: its number at the end
    return {name: topic for name, topic in topics.items() if name == "lobby" or mine.fullmatch(name)}


# Fan-out --------------------------------------------------------------------


async def test_a_message_reaches_every_subscriber_and_every_socket_of_the_sender(live_server, names):
    alice, alice_tab = await two_sockets(live_server, names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.general})
    await bob.ok("topic:subscribe", {"topic": names.general})

    sent = await send(alice, names.general, "hello")

    assert await bob.next("message") == sent
    assert await alice_tab.next("message") == sent
    assert await alice.next("message") == sent
    assert sent["topic"] == names.general and sent["kind"] == "public" and sent["seq"] == 1
    assert sent["sender"] == names.alice and sent["body"] == "hello"


@pytest.mark.both_databases
async def test_a_late_subscriber_gets_the_last_50_messages_oldest_first_in_the_ack(live_server, names):
    alice = await live_server.user(names.alice)
    await alice.ok("topic:create", {"name": names.general})
    sent = await asyncio.gather(*(send(alice, names.general, f"m{n}") for n in range(60)))
    body_of = {m["seq"]: m["body"] for m in sent}
    bob = await live_server.user(names.bob)

    data = await bob.ok("topic:subscribe", {"topic": names.general})

    assert set(data) == {"topic", "history"}
    assert [m["seq"] for m in data["history"]] == list(range(11, 61))
    assert [m["body"] for m in data["history"]] == [body_of[seq] for seq in range(11, 61)]
    topic = data["topic"]
    assert set(topic) == TOPIC_FIELDS
    assert topic["name"] == names.general and topic["subscribed"] is True
    assert topic["members"] == 2 and topic["last_seq"] == 60


async def test_subscribing_from_one_socket_subscribes_the_users_other_sockets_at_once(live_server, names):
    alice = await live_server.user(names.alice)
    bob, bob_tab = await two_sockets(live_server, names.bob)
    await alice.ok("topic:create", {"name": names.general})

    await bob.ok("topic:subscribe", {"topic": names.general})
    sent = await send(alice, names.general, "to both tabs")

    assert await bob.next("message") == sent
    assert await bob_tab.next("message") == sent


async def test_unsubscribing_stops_delivery_to_every_socket_of_the_user(live_server, names):
    alice = await live_server.user(names.alice)
    bob, bob_tab = await two_sockets(live_server, names.bob)
    await alice.ok("topic:create", {"name": names.general})
    await bob.ok("topic:subscribe", {"topic": names.general})
    first = await send(alice, names.general, "while subscribed")
    assert (await bob.next("message"))["id"] == first["id"]
    assert (await bob_tab.next("message"))["id"] == first["id"]

    assert await bob.ok("topic:unsubscribe", {"topic": names.general}) == {}
    await send(alice, names.general, "after leaving")
    marker = await send(alice, "lobby", "marker")

    assert (await bob.next("message"))["id"] == marker["id"]
    assert (await bob_tab.next("message"))["id"] == marker["id"]
    general = (await listed(bob, names))[names.general]
    assert general["subscribed"] is False and general["members"] == 1


@pytest.mark.both_databases
async def test_subscribing_twice_is_idempotent(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.general})
    memberships = await count(live_server, Membership)

    first = await bob.ok("topic:subscribe", {"topic": names.general})
    again = await bob.ok("topic:subscribe", {"topic": names.general})

    assert first["topic"]["members"] == again["topic"]["members"] == 2
    assert await count(live_server, Membership) == memberships + 1
    members = (await bob.ok("topic:members", {"topic": names.general}))["members"]
    assert [m["username"] for m in members] == [names.alice, names.bob]
    sent = await send(alice, names.general, "once")
    marker = await send(alice, "lobby", "marker")
    assert (await bob.next("message"))["id"] == sent["id"]
    assert (await bob.next("message"))["id"] == marker["id"]


# Listings -------------------------------------------------------------------


@pytest.mark.both_databases
async def test_topic_list_shows_public_topics_and_the_users_own_private_ones(own_server):
    alice = await own_server.user("alice")
    bob = await own_server.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    await alice.ok("topic:create", {"name": "secret", "private": True})
    await send(alice, "general", "one")
    await send(alice, "general", "two")

    mine = await listed(alice)
    theirs = await listed(bob)

    assert set(mine) == {"lobby", "general", "secret"}
    assert set(theirs) == {"lobby", "general"}
    for topic in (*mine.values(), *theirs.values()):
        assert set(topic) == TOPIC_FIELDS, topic
        assert is_utc_iso(topic["created_at"])
    assert mine["secret"] == {
        **mine["secret"],
        "kind": "private",
        "owner": "alice",
        "members": 1,
        "online": 1,
        "subscribed": True,
        "last_seq": 0,
        "unread": 0,
    }
    assert theirs["general"] == {
        **theirs["general"],
        "kind": "public",
        "owner": "alice",
        "members": 1,
        "online": 1,
        "subscribed": False,
        "last_seq": 2,
    }
    assert theirs["lobby"]["subscribed"] is True and theirs["lobby"]["members"] == 2
    assert theirs["lobby"]["online"] == 2 and theirs["lobby"]["owner"] is None


@pytest.mark.both_databases
async def test_unread_counts_the_messages_of_others_after_the_read_mark(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.general})
    await bob.ok("topic:subscribe", {"topic": names.general})
    for n in range(3):
        await send(alice, names.general, f"m{n}")
    await send(bob, names.general, "my own")

    assert (await listed(bob, names))[names.general]["unread"] == 3
    assert (await listed(alice, names))[names.general]["unread"] == 1
    await bob.ok("read", {"topic": names.general, "seq": 2})
    assert (await listed(bob, names))[names.general]["unread"] == 1


@pytest.mark.both_databases
async def test_topic_members_lists_usernames_roles_and_presence(live_server, names):
    # A public topic shares no presence (sections 4 and 14): bob sees only his own presence (alice,
    # online, shows offline to him: issue 52 row 9).
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    carol_token = await live_server.register(names.carol)  # never connects
    await alice.ok("topic:create", {"name": names.general})
    await bob.ok("topic:subscribe", {"topic": names.general})
    subscribed = await live_server.http.post(
        f"/api/topics/{names.general}/subscribe", headers={"Authorization": f"Bearer {carol_token}"}
    )
    assert subscribed.status_code == 200, subscribed.text

    data = await bob.ok("topic:members", {"topic": names.general.upper()})

    assert set(data) == {"members"}
    assert [shown(m) for m in data["members"]] == [
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
        {
            "username": names.carol,
            "role": "member",
            "online": False,
            "display_name": "",
            "avatar": None,
            "availability": None,
        },
    ]
    assert all(set(member) == MEMBER_FIELDS for member in data["members"])


# Names ----------------------------------------------------------------------


@pytest.mark.both_databases
async def test_creating_a_name_that_exists_in_another_case_is_a_conflict(live_server, names):
    alice = await live_server.user(names.alice)
    created = await alice.ok("topic:create", {"name": names.General})
    assert set(created) == TOPIC_FIELDS
    assert created["owner"] == names.alice and created["subscribed"] is True and created["members"] == 1
    topics = await count(live_server, Topic)

    assert error_code(await alice.call("topic:create", {"name": names.general})) == "conflict"
    assert (
        error_code(await alice.call("topic:create", {"name": names.GENERAL, "private": True})) == "conflict"
    )
    assert error_code(await alice.call("topic:create", {"name": "Lobby"})) == "conflict"
    assert await count(live_server, Topic) == topics


@pytest.mark.both_databases
async def test_names_match_in_any_case_and_keep_the_case_they_were_created_with(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    created = f"Tea.Room-2_b{names.number}"
    await alice.ok("topic:create", {"name": created})

    subscribed = await bob.ok("topic:subscribe", {"topic": f"tea.room-2_B{names.number}"})
    sent = await send(bob, created.upper(), "hi")

    assert subscribed["topic"]["name"] == created
    assert sent["topic"] == created
    assert (await alice.next("message"))["topic"] == created
    assert created in await listed(bob, names)


async def test_unknown_topics_are_not_found(live_server, names):
    alice = await live_server.user(names.alice)
    for event, payload in [
        ("topic:subscribe", {"topic": names.nowhere}),
        ("topic:unsubscribe", {"topic": names.nowhere}),
        ("topic:members", {"topic": names.nowhere}),
        ("topic:invite", {"topic": names.nowhere, "username": names.alice}),
        ("message:send", {"topic": names.nowhere, "body": "hi"}),
        ("history", {"topic": names.nowhere}),
    ]:
        assert error_code(await alice.call(event, payload)) == "not_found", event


async def test_posting_to_a_public_topic_needs_a_subscription(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.general})

    assert error_code(await bob.call("message:send", {"topic": names.general, "body": "hi"})) == "forbidden"
    await bob.ok("topic:subscribe", {"topic": names.general})
    assert (await send(bob, names.general, "hi"))["seq"] == 1


# Private topics -------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_private_topic_refuses_non_members_and_is_a_no_op_for_members(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.secret, "private": True})
    memberships = await count(live_server, Membership)

    assert error_code(await bob.call("topic:subscribe", {"topic": names.secret})) == "not_found"
    data = await alice.ok("topic:subscribe", {"topic": names.Secret})

    assert await count(live_server, Membership) == memberships
    assert data["topic"]["kind"] == "private" and data["topic"]["members"] == 1
    assert data["history"] == []
    members = (await alice.ok("topic:members", {"topic": names.secret}))["members"]
    assert [shown(m) for m in members] == [
        {
            "username": names.alice,
            "role": "owner",
            "online": True,
            "display_name": "",
            "avatar": None,
            "availability": "online",
        }
    ]


async def test_only_members_may_invite_and_only_known_users(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await live_server.user(names.carol)
    await alice.ok("topic:create", {"name": names.secret, "private": True})
    memberships = await count(live_server, Membership)

    assert (
        error_code(await bob.call("topic:invite", {"topic": names.secret, "username": names.carol}))
        == "not_found"
    )
    assert (
        error_code(await alice.call("topic:invite", {"topic": names.secret, "username": names.nobody}))
        == "not_found"
    )
    assert await count(live_server, Membership) == memberships

    await alice.ok("topic:invite", {"topic": names.secret, "username": names.bob})
    invited = await bob.ok("topic:invite", {"topic": names.secret, "username": names.carol})
    assert invited["topic"]["members"] == 3


async def test_an_invitee_is_told_and_all_its_sockets_join_the_room_at_once(live_server, names):
    alice = await live_server.user(names.alice)
    bob, bob_tab = await two_sockets(live_server, names.bob)
    await alice.ok("topic:create", {"name": names.secret, "private": True})

    data = await alice.ok("topic:invite", {"topic": names.secret, "username": names.bob})
    sent = await send(alice, names.secret, "welcome")

    assert set(data) == {"topic"} and set(data["topic"]) == TOPIC_FIELDS
    assert data["topic"]["members"] == 2 and data["topic"]["subscribed"] is True
    for socket in (bob, bob_tab):
        invited = await socket.next("topic:invited")
        assert set(invited) == {"topic", "by"} and invited["by"] == names.alice
        assert set(invited["topic"]) == TOPIC_FIELDS
        assert invited["topic"]["name"] == names.secret and invited["topic"]["kind"] == "private"
        assert invited["topic"]["subscribed"] is True and invited["topic"]["owner"] == names.alice
        assert await socket.next("message") == sent
    assert names.secret in await listed(bob, names)


async def test_non_members_get_nothing_of_a_private_topic_and_cannot_read_it(live_server, names):
    alice = await live_server.user(names.alice)
    carol = await live_server.user(names.carol)
    await alice.ok("topic:create", {"name": names.secret, "private": True})

    await send(alice, names.secret, "for members only")
    marker = await send(alice, "lobby", "marker")

    assert (await carol.next("message"))["id"] == marker["id"]
    assert carol.pending("topic:invited") == []
    assert names.secret not in await listed(carol, names)


# What a non-member asks about a private topic, and the same about a topic that does not exist.
PROBES = [
    pytest.param("history", {"topic": "{}"}, id="history"),
    pytest.param("topic:members", {"topic": "{}"}, id="members"),
    pytest.param("topic:unsubscribe", {"topic": "{}"}, id="unsubscribe"),
    pytest.param("topic:invite", {"topic": "{}", "username": "{carol}"}, id="invite"),
    pytest.param("message:send", {"topic": "{}", "body": "x"}, id="send"),
    pytest.param("message", {"topic_name": "{}", "content": "x"}, id="legacy-send"),
    pytest.param("typing", {"topic": "{}", "typing": True}, id="typing"),
    pytest.param("read", {"topic": "{}", "seq": 1}, id="read"),
    pytest.param("delivered", {"topic": "{}", "seq": 1}, id="delivered"),
]


@pytest.mark.parametrize(("event", "template"), PROBES)
async def test_a_private_topic_answers_a_non_member_exactly_as_a_missing_one(
    live_server, names, event, template
):
    alice = await live_server.user(names.alice)
    carol = await live_server.user(names.carol)
    await alice.ok("topic:create", {"name": names.Secret, "private": True})

    def probe(name: str) -> dict[str, object]:
        return {
            key: value.replace("{carol}", names.carol).format(name) if isinstance(value, str) else value
            for key, value in template.items()
        }

    hidden = await carol.call(event, probe(names.sECRET))
    missing = await carol.call(event, probe(names.nowhere))

    assert hidden["ok"] is False and hidden["error"]["code"] == "not_found"
    assert hidden["error"]["message"].lower() == missing["error"]["message"].replace(
        names.nowhere, names.secret
    )


async def test_a_message_of_a_private_topic_answers_a_non_member_exactly_as_a_missing_id(live_server, names):
    alice = await live_server.user(names.alice)
    carol = await live_server.user(names.carol)
    await alice.ok("topic:create", {"name": names.secret, "private": True})
    hidden = (await send(alice, names.secret, "for members only"))["id"]
    missing = hidden + 1000  # ids only grow, and this module's tests run one at a time

    for event, extra in (("message:edit", {"body": "mine"}), ("message:delete", {})):
        answers = [await carol.call(event, {"id": number, **extra}) for number in (hidden, missing)]
        assert answers[0]["error"]["code"] == "not_found"
        assert answers[0]["error"]["message"] == answers[1]["error"]["message"].replace(
            str(missing), str(hidden)
        )
    assert (await alice.ok("history", {"topic": names.secret}))["messages"][0]["body"] == "for members only"


async def test_the_owner_may_not_leave_a_private_topic_while_others_remain(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.secret, "private": True})
    await alice.ok("topic:invite", {"topic": names.secret, "username": names.bob})

    assert error_code(await alice.call("topic:unsubscribe", {"topic": names.secret})) == "forbidden"
    members = (await alice.ok("topic:members", {"topic": names.secret}))["members"]
    assert [m["username"] for m in members] == [names.alice, names.bob]

    await bob.ok("topic:unsubscribe", {"topic": names.secret})
    assert error_code(await bob.call("topic:subscribe", {"topic": names.secret})) == "not_found"
    assert await alice.ok("topic:unsubscribe", {"topic": names.secret}) == {}


async def test_a_new_public_topic_reaches_everyone_online_at_once_and_a_private_one_nobody(
    live_server, names
):
    alice, alice_tab = await two_sockets(live_server, names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.secret, "private": True})
    created = await alice.ok("topic:create", {"name": names.news})
    seen_by_bob = await bob.next("topic:created")  # the first one: the private topic sent nothing
    assert set(seen_by_bob) == {"topic", "by"} and seen_by_bob["by"] == names.alice
    topic = seen_by_bob["topic"]
    assert set(topic) == set(created) and TOPIC_FIELDS <= set(topic)
    assert (topic["name"], topic["kind"], topic["owner"], topic["members"]) == (
        names.news,
        "public",
        names.alice,
        1,
    )
    assert topic["subscribed"] is False and topic["unread"] == 0  # as bob sees it
    assert (await alice_tab.next("topic:created"))["topic"] == created  # as alice sees it: subscribed
    assert (await alice.next("topic:created"))["topic"]["subscribed"] is True
    await bob.ok("topic:subscribe", {"topic": names.news})  # and bob can join it from there
    assert [e["topic"]["name"] for e in alice.pending("topic:created") + bob.pending("topic:created")] == []
