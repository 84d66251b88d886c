"""Calls over Socket.IO on one node (PROTOCOL.md section 18): a real uvicorn, real clients.

The rules (who may, full calls, bad input, the system message, kicks) are tested against the
service in tests/chat/calls/; here, what only sockets show: the events each socket gets, a signal
reaching the named peer's socket alone, a reconnect within the grace keeping the seat and a socket
gone past it leaving."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import Client, LiveServer, polled
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases


async def den(live_server: LiveServer) -> tuple[Client, Client, Client]:
    """alice made the private topic ``den`` and invited bob; carol is no member."""
    alice, bob, carol = [await live_server.user(name) for name in ("alice", "bob", "carol")]
    await alice.ok("topic:create", {"name": "den", "private": True})
    await alice.ok("topic:invite", {"topic": "den", "username": "bob"})
    return alice, bob, carol


async def test_a_call_starts_is_joined_relays_signals_to_the_named_peer_alone_and_ends(live_server):
    alice, bob, carol = await den(live_server)

    started = await alice.ok("call:start", {"topic": "den", "media": "video"})
    call = started["call"]
    heard = await bob.next("call:started")
    joined = await bob.ok("call:join", {"call": call["id"]})
    told = await alice.next("call:joined")

    assert call["topic"] == "den" and call["media"] == "video" and call["started_by"] == "alice"
    assert call["participants"] == ["alice"] and "with" not in call
    assert heard == call
    assert joined["peers"] == [{"username": "alice", "peer": started["peer"]}]
    assert joined["call"]["participants"] == ["alice", "bob"]
    assert joined["ice_servers"] == []
    assert told == {"call": call["id"], "username": "bob", "peer": joined["peer"]}

    offer = {"type": "offer", "sdp": "v=0\r\n..."}
    assert await bob.ok("call:signal", {"call": call["id"], "to": started["peer"], "data": offer}) == {}
    assert await alice.next("call:signal") == {"call": call["id"], "from": joined["peer"], "data": offer}
    refused = await carol.call("call:signal", {"call": call["id"], "to": started["peer"], "data": offer})
    assert refused["error"]["code"] == "not_found"

    assert await bob.ok("call:leave", {"call": call["id"]}) == {}
    assert await alice.next("call:left") == {"call": call["id"], "username": "bob", "peer": joined["peer"]}
    await alice.ok("call:leave", {"call": call["id"]})
    ended = await bob.next("call:ended")

    assert ended["call"] == call["id"] and ended["duration_s"] >= 0
    assert bob.pending("call:signal") == [] and carol.pending("call:started") == []
    # the others hear of a leave (bob of alice's), the leaver has its answer (bob not of his own)
    assert [left["username"] for left in bob.pending("call:left")] == ["alice"]
    assert (await alice.ok("call:list", {}))["calls"] == []


@pytest.fixture
def settings(tmp_path):  # type: ignore[no-untyped-def]
    """A grace long enough for a test's reconnect to land within it on a loaded machine."""
    return settings_for(tmp_path / "data", presence_grace=2.0)


async def test_a_reconnect_within_the_grace_keeps_the_seat_and_a_socket_gone_past_it_leaves(live_server):
    alice, _bob, _carol = await den(live_server)
    token = await live_server.register("dave")
    dave = await live_server.connect("dave", token)
    await alice.ok("topic:invite", {"topic": "den", "username": "dave"})
    started = await alice.ok("call:start", {"topic": "den", "media": "audio"})
    call_id = started["call"]["id"]
    first = await dave.ok("call:join", {"call": call_id})
    await alice.next("call:joined")

    await dave.close()  # dave's page reloads: a new socket joins again within the grace
    dave = await live_server.connect("dave", token)
    again = await dave.ok("call:join", {"call": call_id})
    moved = await alice.next("call:joined")

    assert again["peer"] != first["peer"] and again["call"]["participants"] == ["alice", "dave"]
    assert moved == {"call": call_id, "username": "dave", "peer": again["peer"]}
    assert alice.pending("call:left") == []
    await asyncio.sleep(0)

    await dave.close()  # gone for good: out once the grace has passed, and the call goes on
    left = await alice.next("call:left", timeout=10)
    listed = await alice.ok("call:list", {})

    assert left == {"call": call_id, "username": "dave", "peer": again["peer"]}
    assert [call["participants"] for call in listed["calls"]] == [["alice"]]


async def test_a_second_start_answers_the_running_call_and_a_stranger_is_refused(live_server):
    alice, bob, carol = await den(live_server)
    first = await alice.ok("call:start", {"topic": "den", "media": "video"})

    second = await bob.ok("call:start", {"topic": "den", "media": "audio"})
    stranger = await carol.call("call:join", {"call": first["call"]["id"]})
    outsider = await carol.call("call:start", {"topic": "den", "media": "audio"})

    assert second["call"]["id"] == first["call"]["id"] and second["call"]["media"] == "video"
    assert second["call"]["participants"] == ["alice", "bob"]
    assert stranger["error"]["code"] == "not_found" and outsider["error"]["code"] == "not_found"
    await polled(lambda: _no_call_listed(carol), within=1)


async def _no_call_listed(client: Client) -> bool:
    return (await client.ok("call:list", {}))["calls"] == []


async def test_bad_payloads_are_invalid_and_change_nothing(live_server):
    alice, bob, _carol = await den(live_server)
    started = await alice.ok("call:start", {"topic": "den", "media": "video"})
    call_id = started["call"]["id"]

    answers = [
        await alice.call("call:start", {"topic": "den", "media": "hologram"}),
        await alice.call("call:start", {"media": "audio"}),
        await alice.call("call:start", {"topic": "den", "to": "bob", "media": "audio"}),
        await bob.call("call:join", {"call": str(call_id)}),
        await bob.call("call:join", {}),
        await alice.call("call:signal", {"call": call_id, "to": started["peer"]}),
        await alice.call("call:signal", {"call": call_id, "to": "not a peer!", "data": {}}),
        await alice.call("call:leave", {"call": 0}),
    ]

    assert [answer["error"]["code"] for answer in answers] == ["invalid"] * len(answers)
    assert (await alice.ok("call:list", {}))["calls"][0]["participants"] == ["alice"]
    assert bob.pending("call:joined") == [] and bob.pending("call:signal") == []
