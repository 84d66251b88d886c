"""Presence (PROTOCOL.md sections 4 and 14).

``presence {"username", "online", "last_seen", "availability"}`` goes to the users who share
a private topic or a direct conversation with that user, never to people who
only share public topics. The first socket announces ``online: true`` at
once; the user goes offline (with ``last_seen``) a grace period after the
last socket closes, and a socket opened within the grace cancels that
silently. The test server's grace is 0.3 s.

An offline announcement is itself late by the grace, so to show that none is
coming the tests close a second user (``dave``) afterwards: his own offline
announcement, due one grace after his close, must be the next one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support import Client, LiveServer, bearer, running, two_sockets
from tests.support import test_settings as settings_with

PROTOCOL_GRACE_BOUND = timedelta(seconds=3)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def online(username: str) -> dict[str, Any]:
    return {"username": username, "online": True, "last_seen": None, "availability": "online"}


async def private_topic(owner: Client, name: str, *invitees: str) -> None:
    await owner.ok("topic:create", {"name": name, "private": True})
    for username in invitees:
        await owner.ok("topic:invite", {"topic": name, "username": username})


async def next_offline(watcher: Client) -> dict[str, Any]:
    """The next presence event, which must say someone went offline."""
    event: dict[str, Any] = await watcher.next("presence")
    assert event["online"] is False and event["availability"] == "offline", event
    assert set(event) == {"username", "online", "last_seen", "availability"}, event
    return event


async def test_closing_one_of_two_tabs_says_nothing_and_closing_the_last_says_offline(
    live_server: LiveServer,
) -> None:
    alice, alice_tab = await two_sockets(live_server, "alice")
    bob = await live_server.user("bob")
    dave_token = await live_server.register("dave")
    await private_topic(alice, "secret", "bob", "dave")
    dave = await live_server.connect("dave", dave_token)
    assert await bob.next("presence") == online("dave")

    await alice_tab.close()
    await dave.close()  # the marker

    assert (await next_offline(bob))["username"] == "dave"

    closed_at = datetime.now(UTC)
    await alice.close()

    gone = await next_offline(bob)
    heard_at = datetime.now(UTC)
    assert gone["username"] == "alice"
    assert closed_at <= moment(gone["last_seen"]) <= heard_at
    assert moment(gone["last_seen"]) - closed_at <= PROTOCOL_GRACE_BOUND


async def test_coming_back_after_going_offline_says_online_at_once(live_server: LiveServer) -> None:
    alice_token = await live_server.register("alice")
    alice = await live_server.connect("alice", alice_token)
    bob = await live_server.user("bob")
    await private_topic(alice, "secret", "bob")
    await alice.ok("message:send", {"to": "bob", "body": "sharing two places, bob hears each change once"})
    await alice.close()
    assert (await next_offline(bob))["username"] == "alice"

    await live_server.connect("alice", alice_token)

    back = await bob.next("presence")
    assert back["username"] == "alice" and back["online"] is True
    assert back["availability"] == "online"
    assert set(back) == {"username", "online", "last_seen", "availability"}


async def test_a_socket_opened_within_the_grace_cancels_going_offline_silently(tmp_path: Path) -> None:
    # A grace of 1 s leaves ample time to reconnect on a slow machine.
    async with running(settings_with(tmp_path / "data", presence_grace=1.0)) as live_server:
        alice_token = await live_server.register("alice")
        alice = await live_server.connect("alice", alice_token)
        bob = await live_server.user("bob")
        dave_token = await live_server.register("dave")
        await private_topic(alice, "secret", "bob", "dave")
        dave = await live_server.connect("dave", dave_token)
        assert await bob.next("presence") == online("dave")

        await alice.close()
        await live_server.connect("alice", alice_token)  # a page reload
        await dave.close()  # the marker

        assert (await next_offline(bob))["username"] == "dave"


async def test_a_direct_conversation_is_enough_to_share_presence(live_server: LiveServer) -> None:
    alice_token = await live_server.register("alice")
    alice = await live_server.connect("alice", alice_token)
    bob = await live_server.user("bob")
    await alice.ok("message:send", {"to": "bob", "body": "hi"})

    await alice.close()
    assert (await next_offline(bob))["username"] == "alice"
    await live_server.connect("alice", alice_token)

    back = await bob.next("presence")
    assert (back["username"], back["online"], back["availability"]) == ("alice", True, "online")


async def test_people_who_only_share_public_topics_get_no_presence(live_server: LiveServer) -> None:
    eve = await live_server.user("eve")
    dave_token = await live_server.register("dave")
    await private_topic(eve, "pair", "dave")
    dave = await live_server.connect("dave", dave_token)
    assert await eve.next("presence") == online("dave")
    await eve.ok("topic:create", {"name": "general"})

    alice = await live_server.user("alice")  # in lobby with eve, like every account
    await alice.ok("topic:subscribe", {"topic": "general"})
    await alice.close()
    await dave.close()  # the marker

    assert (await next_offline(eve))["username"] == "dave"


async def test_profiles_and_member_lists_report_online_and_last_seen(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    await private_topic(alice, "secret", "bob")

    profile = await live_server.http.get("/api/users/alice", headers=bearer(bob_token))
    members = await bob.ok("topic:members", {"topic": "secret"})
    assert profile.status_code == 200 and profile.json()["online"] is True, profile.text
    assert profile.json()["availability"] == "online"
    assert {m["username"]: (m["online"], m["availability"]) for m in members["members"]} == {
        "alice": (True, "online"),
        "bob": (True, "online"),
    }

    await alice.close()
    gone = await next_offline(bob)

    profile = await live_server.http.get("/api/users/alice", headers=bearer(bob_token))
    members = await bob.ok("topic:members", {"topic": "secret"})
    assert profile.status_code == 200, profile.text
    assert profile.json()["online"] is False
    assert profile.json()["availability"] == "offline"
    assert moment(profile.json()["last_seen"]) == moment(gone["last_seen"])
    assert {m["username"]: (m["online"], m["availability"]) for m in members["members"]} == {
        "alice": (False, "offline"),
        "bob": (True, "online"),
    }
