"""``topic:member`` (PROTOCOL.md section 4): a topic's online members hear who joined or left, at
once, whatever made the change; nobody else hears of it.

One server per module and database; each test has its own users and topics (``names``). A
negative ("did not hear") is checked after a later event that the same socket must hear: the hub
delivers a node's events to a socket in commit order, so anything earlier is already queued.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import Client, LiveServer

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


async def news_of(client: Client, topic: str, username: str) -> dict[str, Any]:
    """The next ``topic:member`` about ``username`` in ``topic`` (others of the shared lobby skipped)."""
    while True:
        news: dict[str, Any] = await client.next("topic:member")
        if (news["topic"], news["username"]) == (topic, username):
            return news


def heard_of(client: Client, topic: str) -> list[dict[str, Any]]:
    return [news for news in client.pending("topic:member") if news["topic"] == topic]


async def test_a_subscribe_is_told_to_the_members_and_the_joiner(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.topic})

    await bob.ok("topic:subscribe", {"topic": names.topic})

    told = await news_of(alice, names.topic, names.bob)
    assert told == {"topic": names.topic, "username": names.bob, "action": "joined", "role": "member"}
    assert (await news_of(bob, names.topic, names.bob))["action"] == "joined"


async def test_a_leave_is_told_to_those_who_stay_not_to_the_leaver(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.topic})
    await bob.ok("topic:subscribe", {"topic": names.topic})
    await news_of(alice, names.topic, names.bob)  # the join

    await bob.ok("topic:unsubscribe", {"topic": names.topic})

    told = await news_of(alice, names.topic, names.bob)
    assert (told["action"], told["role"]) == ("left", "member")
    await alice.ok("message:send", {"topic": names.topic, "body": "still here"})
    await bob.ok("topic:create", {"name": names.other})  # an event of bob's own after the leave
    assert [news["action"] for news in heard_of(bob, names.topic)] == ["joined"]  # his own join only


async def test_an_invite_to_a_private_topic_is_told_to_its_members_only(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    carol = await live_server.user(names.carol)
    await alice.ok("topic:create", {"name": names.topic, "private": True})
    await alice.ok("topic:create", {"name": names.other})
    await carol.ok("topic:subscribe", {"topic": names.other})

    await alice.ok("topic:invite", {"topic": names.topic, "username": names.bob})

    assert (await news_of(alice, names.topic, names.bob))["action"] == "joined"
    assert (await news_of(bob, names.topic, names.bob))["action"] == "joined"
    await alice.ok("message:send", {"topic": names.other, "body": "after the invite"})
    await carol.next("message")  # carol's socket has heard everything before this
    assert heard_of(carol, names.topic) == []  # a private topic's members are nobody else's business


async def test_a_kick_and_a_ban_are_told_as_leaves(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    carol = await live_server.user(names.carol)
    await alice.ok("topic:create", {"name": names.topic})
    for member in (bob, carol):
        await member.ok("topic:subscribe", {"topic": names.topic})
    await news_of(alice, names.topic, names.bob)  # the joins
    await news_of(alice, names.topic, names.carol)

    await alice.ok("topic:kick", {"topic": names.topic, "username": names.bob})
    assert (await news_of(alice, names.topic, names.bob))["action"] == "left"
    await alice.ok("topic:ban", {"topic": names.topic, "username": names.carol})
    assert (await news_of(alice, names.topic, names.carol))["action"] == "left"


async def test_the_creator_is_told_of_their_own_join_as_owner(live_server, names):
    alice = await live_server.user(names.alice)

    await alice.ok("topic:create", {"name": names.topic})

    told = await news_of(alice, names.topic, names.alice)
    assert (told["action"], told["role"]) == ("joined", "owner")


async def test_a_direct_conversation_tells_nobody_of_members(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)

    await alice.ok("message:send", {"to": names.bob, "body": "hi"})
    await bob.next("message")

    for client in (alice, bob):
        assert {news["topic"] for news in client.pending("topic:member")} <= {"lobby"}


async def test_a_new_account_is_told_to_the_lobby(live_server, names):
    alice = await live_server.user(names.alice)

    await live_server.register(names.bob)

    told = await news_of(alice, "lobby", names.bob)
    assert (told["action"], told["role"]) == ("joined", "member")
