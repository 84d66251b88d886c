"""Calls across two nodes (PROTOCOL.md section 18): a call started through node A is heard, joined
and signalled through node B, each signal reaching the named peer's socket alone on whichever
node holds it, a full call refused and a kick removing a participant whatever node they are on;
and a node killed with -9 leaves no seat behind: its participants leave within the presence TTL
(two real ``parley serve``)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from tests.databases import fresh_postgres_database, postgres_url
from tests.scaleout.conftest import two_nodes
from tests.scaleout.test_node_crash import TTL, connect, crashable_nodes, register

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_call_reaches_signals_and_refuses_across_nodes(tmp_path: Path):
    async with two_nodes(tmp_path, default_topics=[], call_max_peers=3) as (node_a, node_b):
        alice = await node_a.user("alice")
        bob, carol = await node_b.user("bob"), await node_b.user("carol")
        dave, eve = await node_a.user("dave"), await node_b.user("eve")
        await alice.ok("topic:create", {"name": "den", "private": True})
        for name in ("bob", "carol", "dave"):
            await alice.ok("topic:invite", {"topic": "den", "username": name})

        started = await alice.ok("call:start", {"topic": "den", "media": "video"})
        call_id = started["call"]["id"]
        assert (await bob.next("call:started"))["id"] == call_id  # on the other node
        bob_in = await bob.ok("call:join", {"call": call_id})
        carol_in = await carol.ok("call:join", {"call": call_id})
        assert {(await alice.next("call:joined"))["username"] for _ in range(2)} == {"bob", "carol"}

        offer = {"type": "offer", "sdp": "v=0"}
        await alice.ok("call:signal", {"call": call_id, "to": bob_in["peer"], "data": offer})
        answer = {"type": "answer", "sdp": "v=0"}
        await bob.ok("call:signal", {"call": call_id, "to": started["peer"], "data": answer})
        candidate = {"candidate": "candidate:1 1 udp 1 10.0.0.2 9 typ host"}
        await carol.ok("call:signal", {"call": call_id, "to": bob_in["peer"], "data": candidate})

        assert await bob.next("call:signal") == {"call": call_id, "from": started["peer"], "data": offer}
        assert await alice.next("call:signal") == {"call": call_id, "from": bob_in["peer"], "data": answer}
        assert await bob.next("call:signal") == {"call": call_id, "from": carol_in["peer"], "data": candidate}
        full = await dave.call("call:join", {"call": call_id})
        stranger = await eve.call("call:join", {"call": call_id})
        assert (full["error"]["code"], full["error"]["message"]) == ("forbidden", "the call is full")
        assert stranger["error"]["code"] == "not_found"

        await alice.ok("topic:kick", {"topic": "den", "username": "carol"})  # carol is on the other node
        assert await bob.next("call:left") == {"call": call_id, "username": "carol", "peer": carol_in["peer"]}
        assert (await carol.next("call:left"))["peer"] == carol_in["peer"]  # told on her own socket
        assert carol.pending("call:signal") == [] and alice.pending("call:signal") == []
        assert dave.pending("call:signal") == [] and eve.pending("call:started") == []


async def test_a_killed_nodes_participants_leave_within_the_presence_ttl(tmp_path: Path):
    async with fresh_postgres_database(postgres_url(), migrated=True) as database:
        async with crashable_nodes(tmp_path, database, PARLEY_PRESENCE_GRACE="0.2") as (
            node_one,
            url_one,
            url_two,
            _,
        ):
            alice_token, bob_token = await register(url_one, "alice"), await register(url_two, "bob")
            alice = await connect(url_one, "alice", alice_token)
            bob = await connect(url_two, "bob", bob_token)
            started = await bob.ok("call:start", {"to": "alice", "media": "audio"})
            call_id = started["call"]["id"]
            alice_in = await alice.ok("call:join", {"call": call_id})
            assert (await bob.next("call:joined"))["peer"] == alice_in["peer"]

            node_one.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            left = await bob.next("call:left", timeout=6 * TTL)
            took = time.monotonic() - killed
            listed = await bob.ok("call:list", {})

        assert left == {"call": call_id, "username": "alice", "peer": alice_in["peer"]}
        assert took < TTL + 1.0 + 2.5, took  # the TTL, one sweep (1 s) and slack
        assert [call["participants"] for call in listed["calls"]] == [["bob"]]
        await bob.close()


async def test_a_sockets_signals_reach_the_peer_on_the_other_node_in_the_order_sent(tmp_path: Path):
    """An offer, then its candidates, sent without waiting for each answer (as a page does) while
    the relaying node has not read the call's seats yet: a candidate relayed before its offer is
    one the other side must throw away (a call that never connects, the two-node call test)."""
    async with two_nodes(tmp_path, default_topics=[]) as (node_a, node_b):
        alice, bob = await node_a.user("alice"), await node_b.user("bob")
        await alice.ok("topic:create", {"name": "den", "private": True})
        await alice.ok("topic:invite", {"topic": "den", "username": "bob"})
        started = await alice.ok("call:start", {"topic": "den", "media": "audio"})
        call_id = started["call"]["id"]
        for round_ in range(3):
            bob_in = await bob.ok("call:join", {"call": call_id})
            await alice.next("call:joined")
            burst = [{"n": n, "round": round_} for n in range(16)]  # 48 in all: within the burst of 50
            await asyncio.gather(
                *(alice.ok("call:signal", {"call": call_id, "to": bob_in["peer"], "data": d}) for d in burst)
            )
            got = [(await bob.next("call:signal"))["data"] for _ in burst]
            assert got == burst, [d["n"] for d in got]
            await bob.ok("call:leave", {"call": call_id})
            await alice.next("call:left")
