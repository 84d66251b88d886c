"""Typing and read marks, and the ``unread`` count they drive (PROTOCOL.md sections 3 and 4).

``typing`` is relayed to the other members as ``{"topic", "username", "typing"}``
and never to any socket of the typer; it ends by itself when the typer goes
away or stays silent for the typing TTL. ``read`` moves a read mark forward
only and tells the other members ``{"topic", "username", "seq"}``. ``unread``
in a Topic counts messages after the read mark, not one's own, not deleted.

To show that an event did not arrive, a later event on the same channel is
provoked and must come first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import Client, LiveServer, bearer, general_with, running, two_sockets
from tests.support import test_settings as settings_with

pytestmark = pytest.mark.both_databases


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
    live_server: LiveServer,
) -> None:
    alice, alice_tab = await two_sockets(live_server, "alice")
    bob = await live_server.user("bob")
    await general_with(alice, bob)

    assert await alice.ok("typing", {"topic": "general", "typing": True}) == {}
    assert await bob.next("typing") == typing("general", "alice", True)
    await alice.ok("typing", {"topic": "general", "typing": False})
    assert await bob.next("typing") == typing("general", "alice", False)

    await bob.ok("typing", {"topic": "general", "typing": True})  # the marker
    assert await alice.next("typing") == typing("general", "bob", True)
    assert await alice_tab.next("typing") == typing("general", "bob", True)


async def test_typing_in_a_direct_conversation_shows_the_typer_as_the_topic(live_server: LiveServer) -> None:
    alice, alice_tab = await two_sockets(live_server, "alice")
    bob = await live_server.user("bob")
    await alice.ok("message:send", {"to": "bob", "body": "hi"})

    await alice.ok("typing", {"to": "bob", "typing": True})
    assert await bob.next("typing") == typing("@alice", "alice", True)

    await bob.ok("typing", {"to": "alice", "typing": True})  # the marker
    assert await alice_tab.next("typing") == typing("@bob", "bob", True)
    assert await alice.next("typing") == typing("@bob", "bob", True)


async def test_typing_needs_membership(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    await alice.ok("topic:create", {"name": "general"})

    outsider = await bob.call("typing", {"topic": "general", "typing": True})
    nobody = await bob.call("typing", {"to": "nobody", "typing": True})

    assert outsider["ok"] is False and outsider["error"]["code"] == "forbidden", outsider
    assert nobody["ok"] is False and nobody["error"]["code"] == "not_found", nobody


async def test_typing_ends_when_the_typer_disconnects_without_saying_so(tmp_path: Path) -> None:
    # A TTL far beyond the wait below: only the disconnect can end this typing.
    async with running(settings_with(tmp_path / "data", typing_ttl=60.0)) as live_server:
        alice = await live_server.user("alice")
        bob = await live_server.user("bob")
        await general_with(alice, bob)
        await alice.ok("message:send", {"to": "bob", "body": "hi"})
        await alice.ok("typing", {"topic": "general", "typing": True})
        await alice.ok("typing", {"to": "bob", "typing": True})
        started = [await bob.next("typing"), await bob.next("typing")]

        await alice.close()

        stopped = [await bob.next("typing", timeout=3.0), await bob.next("typing", timeout=3.0)]
        assert {e["topic"]: e for e in started} == {
            "general": typing("general", "alice", True),
            "@alice": typing("@alice", "alice", True),
        }
        assert {e["topic"]: e for e in stopped} == {
            "general": typing("general", "alice", False),
            "@alice": typing("@alice", "alice", False),
        }


async def test_typing_expires_after_the_ttl_while_the_typer_stays_connected(tmp_path: Path) -> None:
    async with running(settings_with(tmp_path / "data", typing_ttl=0.3)) as live_server:
        alice = await live_server.user("alice")
        bob = await live_server.user("bob")
        await general_with(alice, bob)

        await alice.ok("typing", {"topic": "general", "typing": True})

        assert await bob.next("typing") == typing("general", "alice", True)
        assert await bob.next("typing", timeout=3.0) == typing("general", "alice", False)
        assert alice.connected


# Read marks ---------------------------------------------------------------


async def test_a_read_mark_is_announced_to_the_other_members(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    await general_with(alice, bob)
    for body in ("one", "two"):
        await alice.ok("message:send", {"topic": "general", "body": body})

    assert await bob.ok("read", {"topic": "general", "seq": 2}) == {}

    assert await alice.next("read") == {"topic": "general", "username": "bob", "seq": 2}


async def test_a_read_mark_in_a_direct_conversation_names_the_reader(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    await alice.ok("message:send", {"to": "bob", "body": "hi"})

    await bob.ok("read", {"with": "alice", "seq": 1})

    assert await alice.next("read") == {"topic": "@bob", "username": "bob", "seq": 1}


@pytest.mark.parametrize(
    ("where", "mine"), [({"topic": "general"}, "general"), ({"with": "alice"}, "@alice")]
)
async def test_a_read_mark_reaches_the_readers_other_tab(
    live_server: LiveServer, where: Any, mine: str
) -> None:
    alice = await live_server.user("alice")
    bob, bob_tab = await two_sockets(live_server, "bob")
    await general_with(alice, bob)
    await alice.ok("message:send", {"to": "bob", "body": "hi"})
    await alice.ok("message:send", {"topic": "general", "body": "hello"})

    await bob.ok("read", {**where, "seq": 1})

    assert await bob_tab.next("read") == {"topic": mine, "username": "bob", "seq": 1}  # clears its unread


async def test_read_marks_never_move_back(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    await general_with(alice, bob)
    for n in range(1, 8):
        await alice.ok("message:send", {"topic": "general", "body": f"message {n}"})
    await bob.ok("read", {"topic": "general", "seq": 5})
    assert await alice.next("read") == {"topic": "general", "username": "bob", "seq": 5}
    assert await unread(bob, "general") == 2

    assert await bob.ok("read", {"topic": "general", "seq": 3}) == {}

    assert await unread(bob, "general") == 2
    assert await rest_unread(live_server, bob_token, "general") == 2
    await bob.ok("read", {"topic": "general", "seq": 6})  # the marker
    assert await alice.next("read") == {"topic": "general", "username": "bob", "seq": 6}


async def test_read_needs_membership(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    await alice.ok("message:send", {"topic": "general", "body": "hi"})

    ack = await bob.call("read", {"topic": "general", "seq": 1})

    assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack


# Unread -----------------------------------------------------------------


async def test_unread_counts_others_live_messages_after_the_read_mark(live_server: LiveServer) -> None:
    alice_token = await live_server.register("alice")
    alice = await live_server.connect("alice", alice_token)
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    await general_with(alice, bob)
    sent = [await alice.ok("message:send", {"topic": "general", "body": f"a{n}"}) for n in (1, 2, 3)]
    await bob.ok("message:send", {"topic": "general", "body": "b4"})
    await alice.ok("message:delete", {"id": sent[1]["id"]})

    assert await unread(bob, "general") == 2  # a1 and a3: not b4 (own), not a2 (deleted)
    assert await rest_unread(live_server, bob_token, "general") == 2
    assert await unread(alice, "general") == 1  # b4

    await bob.ok("read", {"topic": "general", "seq": 1})
    assert await unread(bob, "general") == 1
    await bob.ok("read", {"topic": "general", "seq": 4})
    assert await unread(bob, "general") == 0
    assert await rest_unread(live_server, bob_token, "general") == 0

    await alice.ok("message:send", {"topic": "general", "body": "a5"})
    assert await unread(bob, "general") == 1
    assert await rest_unread(live_server, bob_token, "general") == 1


async def test_unread_in_a_direct_conversation(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    for body in ("one", "two", "three"):
        await alice.ok("message:send", {"to": "bob", "body": body})
    await bob.ok("message:send", {"to": "alice", "body": "reply"})

    assert await unread(bob, "@alice") == 3
    assert await rest_unread(live_server, bob_token, "@alice") == 3
    assert await unread(alice, "@bob") == 1

    await bob.ok("read", {"with": "alice", "seq": 2})

    assert await unread(bob, "@alice") == 1
    assert await rest_unread(live_server, bob_token, "@alice") == 1
