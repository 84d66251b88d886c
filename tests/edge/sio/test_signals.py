"""Typing and read marks, and the ``unread`` count they drive (PROTOCOL.md sections 3 and 4).

``typing`` is relayed to the other members as ``{"topic", "username", "typing"}``
and never to any socket of the typer; it ends by itself when the typer goes
away or stays silent for the typing TTL. ``read`` moves a read mark forward
only and tells the other members ``{"topic", "username", "seq"}``. ``unread``
in a Topic counts messages after the read mark, not one's own, not deleted.

To show that an event did not arrive, a later event on the same channel is
provoked and must come first.

One server per module and database (``server``, with a typing TTL far beyond any wait here:
only a test's own stop or disconnect ends its typing); each test has its own users and topics
(``names``). The tests marked ``both_databases`` (read marks and the unread counts, which are
queries) run on PostgreSQL too; the one that times the TTL has a server of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import Client, LiveServer, bearer, running, two_sockets
from tests.support import test_settings as settings_with

pytestmark = pytest.mark.asyncio(loop_scope="module")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    databases_of(metafunc)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory, request) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory, request.param, typing_ttl=60.0) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest.fixture
def names() -> Names:
    return Names()


async def general_with(names: Names, owner: Client, *members: Client) -> None:
    """``owner`` creates the test's public topic ``names.general``; ``members`` subscribe."""
    await owner.ok("topic:create", {"name": names.general})
    for member in members:
        await member.ok("topic:subscribe", {"topic": names.general})


async def unread(client: Client, name: str) -> int:
    topics = {t["name"]: t for t in (await client.ok("topic:list"))["topics"]}
    count: int = topics[name]["unread"]
    return count


async def rest_unread(live_server: LiveServer, token: str, name: str) -> int:
    response = await live_server.http.get("/api/topics", headers=bearer(token))
    assert response.status_code == 200, response.text
    topics = {t["name"]: t for t in response.json()["topics"]}
    count: int = topics[name]["unread"]
    return count


def typing(topic: str, username: str, is_typing: bool) -> dict[str, Any]:
    return {"topic": topic, "username": username, "typing": is_typing}


# Typing -----------------------------------------------------------------


async def test_typing_in_a_topic_reaches_the_others_but_no_socket_of_the_typer(
    live_server: LiveServer, names: Names
) -> None:
    alice, alice_tab = await two_sockets(live_server, names.alice)
    bob = await live_server.user(names.bob)
    await general_with(names, alice, bob)

    assert await alice.ok("typing", {"topic": names.general, "typing": True}) == {}
    assert await bob.next("typing") == typing(names.general, names.alice, True)
    await alice.ok("typing", {"topic": names.general, "typing": False})
    assert await bob.next("typing") == typing(names.general, names.alice, False)

    await bob.ok("typing", {"topic": names.general, "typing": True})  # the marker
    assert await alice.next("typing") == typing(names.general, names.bob, True)
    assert await alice_tab.next("typing") == typing(names.general, names.bob, True)


async def test_typing_in_a_direct_conversation_shows_the_typer_as_the_topic(
    live_server: LiveServer, names: Names
) -> None:
    alice, alice_tab = await two_sockets(live_server, names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("message:send", {"to": names.bob, "body": "hi"})

    await alice.ok("typing", {"to": names.bob, "typing": True})
    assert await bob.next("typing") == typing("@" + names.alice, names.alice, True)

    await bob.ok("typing", {"to": names.alice, "typing": True})  # the marker
    assert await alice_tab.next("typing") == typing("@" + names.bob, names.bob, True)
    assert await alice.next("typing") == typing("@" + names.bob, names.bob, True)


async def test_typing_needs_membership(live_server: LiveServer, names: Names) -> None:
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.general})

    outsider = await bob.call("typing", {"topic": names.general, "typing": True})
    nobody = await bob.call("typing", {"to": names.nobody, "typing": True})

    assert outsider["ok"] is False and outsider["error"]["code"] == "forbidden", outsider
    assert nobody["ok"] is False and nobody["error"]["code"] == "not_found", nobody


async def test_typing_ends_when_the_typer_disconnects_without_saying_so(
    live_server: LiveServer, names: Names
) -> None:
    # The module's TTL (60 s) is far beyond the wait below: only the disconnect can end this typing.
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await general_with(names, alice, bob)
    await alice.ok("message:send", {"to": names.bob, "body": "hi"})
    await alice.ok("typing", {"topic": names.general, "typing": True})
    await alice.ok("typing", {"to": names.bob, "typing": True})
    started = [await bob.next("typing"), await bob.next("typing")]

    await alice.close()

    stopped = [await bob.next("typing", timeout=3.0), await bob.next("typing", timeout=3.0)]
    assert {e["topic"]: e for e in started} == {
        names.general: typing(names.general, names.alice, True),
        "@" + names.alice: typing("@" + names.alice, names.alice, True),
    }
    assert {e["topic"]: e for e in stopped} == {
        names.general: typing(names.general, names.alice, False),
        "@" + names.alice: typing("@" + names.alice, names.alice, False),
    }


async def test_typing_expires_after_the_ttl_while_the_typer_stays_connected(tmp_path: Path) -> None:
    # A server of its own: the test times the TTL, short here.
    async with running(settings_with(tmp_path / "data", typing_ttl=0.3)) as live_server:
        alice = await live_server.user("alice")
        bob = await live_server.user("bob")
        await alice.ok("topic:create", {"name": "general"})
        await bob.ok("topic:subscribe", {"topic": "general"})

        await alice.ok("typing", {"topic": "general", "typing": True})

        assert await bob.next("typing") == typing("general", "alice", True)
        assert await bob.next("typing", timeout=3.0) == typing("general", "alice", False)
        assert alice.connected


# Read marks ---------------------------------------------------------------


async def test_a_read_mark_is_announced_to_the_other_members(live_server: LiveServer, names: Names) -> None:
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await general_with(names, alice, bob)
    for body in ("one", "two"):
        await alice.ok("message:send", {"topic": names.general, "body": body})

    assert await bob.ok("read", {"topic": names.general, "seq": 2}) == {}

    assert await alice.next("read") == {"topic": names.general, "username": names.bob, "seq": 2}


async def test_a_read_mark_in_a_direct_conversation_names_the_reader(
    live_server: LiveServer, names: Names
) -> None:
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("message:send", {"to": names.bob, "body": "hi"})

    await bob.ok("read", {"with": names.alice, "seq": 1})

    assert await alice.next("read") == {"topic": "@" + names.bob, "username": names.bob, "seq": 1}


@pytest.mark.parametrize("where", ["topic", "with"])
async def test_a_read_mark_reaches_the_readers_other_tab(
    live_server: LiveServer, names: Names, where: str
) -> None:
    alice = await live_server.user(names.alice)
    bob, bob_tab = await two_sockets(live_server, names.bob)
    await general_with(names, alice, bob)
    await alice.ok("message:send", {"to": names.bob, "body": "hi"})
    await alice.ok("message:send", {"topic": names.general, "body": "hello"})
    mine = names.general if where == "topic" else "@" + names.alice

    await bob.ok("read", {where: names.general if where == "topic" else names.alice, "seq": 1})

    assert await bob_tab.next("read") == {"topic": mine, "username": names.bob, "seq": 1}  # clears its unread


@pytest.mark.both_databases
async def test_read_marks_never_move_back(live_server: LiveServer, names: Names) -> None:
    alice = await live_server.user(names.alice)
    bob_token = await live_server.register(names.bob)
    bob = await live_server.connect(names.bob, bob_token)
    await general_with(names, alice, bob)
    for n in range(1, 8):
        await alice.ok("message:send", {"topic": names.general, "body": f"message {n}"})
    await bob.ok("read", {"topic": names.general, "seq": 5})
    assert await alice.next("read") == {"topic": names.general, "username": names.bob, "seq": 5}
    assert await unread(bob, names.general) == 2

    assert await bob.ok("read", {"topic": names.general, "seq": 3}) == {}

    assert await unread(bob, names.general) == 2
    assert await rest_unread(live_server, bob_token, names.general) == 2
    await bob.ok("read", {"topic": names.general, "seq": 6})  # the marker
    assert await alice.next("read") == {"topic": names.general, "username": names.bob, "seq": 6}


async def test_read_needs_membership(live_server: LiveServer, names: Names) -> None:
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    await alice.ok("topic:create", {"name": names.general})
    await alice.ok("message:send", {"topic": names.general, "body": "hi"})

    ack = await bob.call("read", {"topic": names.general, "seq": 1})

    assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack


# Unread -----------------------------------------------------------------


@pytest.mark.both_databases
async def test_unread_counts_others_live_messages_after_the_read_mark(
    live_server: LiveServer, names: Names
) -> None:
    alice_token = await live_server.register(names.alice)
    alice = await live_server.connect(names.alice, alice_token)
    bob_token = await live_server.register(names.bob)
    bob = await live_server.connect(names.bob, bob_token)
    await general_with(names, alice, bob)
    general = names.general
    sent = [await alice.ok("message:send", {"topic": general, "body": f"a{n}"}) for n in (1, 2, 3)]
    await bob.ok("message:send", {"topic": general, "body": "b4"})
    await alice.ok("message:delete", {"id": sent[1]["id"]})

    assert await unread(bob, general) == 2  # a1 and a3: not b4 (own), not a2 (deleted)
    assert await rest_unread(live_server, bob_token, general) == 2
    assert await unread(alice, general) == 1  # b4

    await bob.ok("read", {"topic": general, "seq": 1})
    assert await unread(bob, general) == 1
    await bob.ok("read", {"topic": general, "seq": 4})
    assert await unread(bob, general) == 0
    assert await rest_unread(live_server, bob_token, general) == 0

    await alice.ok("message:send", {"topic": general, "body": "a5"})
    assert await unread(bob, general) == 1
    assert await rest_unread(live_server, bob_token, general) == 1


@pytest.mark.both_databases
async def test_unread_in_a_direct_conversation(live_server: LiveServer, names: Names) -> None:
    alice = await live_server.user(names.alice)
    bob_token = await live_server.register(names.bob)
    bob = await live_server.connect(names.bob, bob_token)
    for body in ("one", "two", "three"):
        await alice.ok("message:send", {"to": names.bob, "body": body})
    await bob.ok("message:send", {"to": names.alice, "body": "reply"})

    assert await unread(bob, "@" + names.alice) == 3
    assert await rest_unread(live_server, bob_token, "@" + names.alice) == 3
    assert await unread(alice, "@" + names.bob) == 1

    await bob.ok("read", {"with": names.alice, "seq": 2})

    assert await unread(bob, "@" + names.alice) == 1
    assert await rest_unread(live_server, bob_token, "@" + names.alice) == 1
