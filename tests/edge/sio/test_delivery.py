"""Delivery: the backlog on connect, ``delivered`` cursors and ordering under load (PROTOCOL.md 4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import WAIT, Client, LiveServer, offline_bob, running, send
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases


class OrderedClient(Client):
    """A client that also remembers the order in which events of any name arrived."""

    def __init__(self, username: str) -> None:
        super().__init__(username)
        self.order: list[str] = []

    async def _record(self, event: str, *args: Any) -> None:
        self.order.append(event)
        await super()._record(event, *args)


async def reconnect(live_server: LiveServer, name: str, token: str) -> OrderedClient:
    """A new socket for ``name``, returned once its ``session`` arrived."""
    client = OrderedClient(name)
    await client.sio.connect(live_server.url, auth={"token": token}, wait_timeout=WAIT)
    live_server._clients.append(client)  # closed with the server
    await client.next("session")
    return client


async def messages(client: Client, count: int) -> list[dict[str, Any]]:
    return [await client.next("message") for _ in range(count)]


async def miss_five_and_a_direct(alice: Client) -> list[dict[str, Any]]:
    missed = [await send(alice, {"topic": "general", "body": f"m{n}"}) for n in range(1, 6)]
    return [*missed, await send(alice, {"to": "bob", "body": "psst"})]


async def assert_only_new_messages_arrive(alice: Client, bob: OrderedClient) -> None:
    """alice sends a marker now; it must be the first ``message`` bob gets on this socket."""
    marker = await send(alice, {"topic": "general", "body": "marker"})
    assert (await bob.next("message"))["id"] == marker["id"]
    assert bob.order[0] == "session"


# Offline delivery -------------------------------------------------------------


async def test_a_returning_user_gets_exactly_what_it_missed_after_session(live_server):
    alice, token = await offline_bob(live_server)
    missed = await miss_five_and_a_direct(alice)

    bob = await reconnect(live_server, "bob", token)
    got = await messages(bob, 6)

    assert bob.order == ["session"] + ["message"] * 6
    assert sorted(m["id"] for m in got) == sorted(m["id"] for m in missed)
    in_topic = [m for m in got if m["topic"] == "general"]
    assert [m["seq"] for m in in_topic] == [1, 2, 3, 4, 5]
    assert in_topic == missed[:5]
    direct = next(m for m in got if m["kind"] == "direct")
    assert direct == {**missed[5], "topic": "@alice"}
    await assert_only_new_messages_arrive(alice, bob)


async def test_a_missed_message_is_encoded_once_for_the_welcomes_that_follow(live_server):
    """A storm's welcomes run one after another, a few users' backlogs each: the rendering they
    share (``DeliveryService``) keeps its encoding across them, not only within one (it was
    dropped at the end of every welcome, so each encoded it again)."""
    namespace = live_server.app.state.chat_namespace
    alice, token = await offline_bob(live_server)
    missed = await send(alice, {"topic": "general", "body": "missed"})
    encodings = []
    for _ in range(2):  # bob never acknowledges: the same backlog twice
        bob = await reconnect(live_server, "bob", token)
        assert await messages(bob, 1) == [missed]
        await namespace.drain()
        encodings.append([encoded for _, encoded in namespace._encodings.values()])
        await bob.close()

    assert len(encodings[0]) == 1, encodings
    assert encodings[1][0] is encodings[0][0]


async def test_acknowledged_messages_are_not_sent_again(live_server):
    alice, token = await offline_bob(live_server)
    await miss_five_and_a_direct(alice)
    bob = await reconnect(live_server, "bob", token)
    await messages(bob, 6)

    assert await bob.ok("delivered", {"topic": "general", "seq": 5}) == {}
    assert await bob.ok("delivered", {"with": "alice", "seq": 1}) == {}
    await bob.close()
    bob = await reconnect(live_server, "bob", token)

    await assert_only_new_messages_arrive(alice, bob)


async def test_unacknowledged_messages_are_sent_again_on_every_connection(live_server):
    alice, token = await offline_bob(live_server)
    missed = await miss_five_and_a_direct(alice)
    first = await reconnect(live_server, "bob", token)
    first_time = await messages(first, 6)
    await first.close()

    again = await reconnect(live_server, "bob", token)
    second_time = await messages(again, 6)

    assert sorted(m["id"] for m in second_time) == sorted(m["id"] for m in missed)
    assert second_time == first_time
    await assert_only_new_messages_arrive(alice, again)


async def test_a_partial_acknowledgement_leaves_the_rest_for_next_time(live_server):
    alice, token = await offline_bob(live_server)
    missed = await miss_five_and_a_direct(alice)
    bob = await reconnect(live_server, "bob", token)
    await messages(bob, 6)

    await bob.ok("delivered", {"topic": "GENERAL", "seq": 3})
    await bob.close()
    bob = await reconnect(live_server, "bob", token)

    got = await messages(bob, 3)
    assert sorted(m["id"] for m in got) == sorted(m["id"] for m in missed[3:])
    await assert_only_new_messages_arrive(alice, bob)


async def test_delivered_cursors_never_move_backwards(live_server):
    alice, token = await offline_bob(live_server)
    missed = [await send(alice, {"topic": "general", "body": f"m{n}"}) for n in range(1, 7)]
    bob = await reconnect(live_server, "bob", token)
    await messages(bob, 6)

    await bob.ok("delivered", {"topic": "general", "seq": 5})
    await bob.ok("delivered", {"topic": "general", "seq": 2})
    await bob.close()
    bob = await reconnect(live_server, "bob", token)
    assert (await bob.next("message"))["id"] == missed[5]["id"]

    await bob.ok("delivered", {"topic": "general", "seq": 1})  # a fresh flush of an older mark
    await bob.close()
    bob = await reconnect(live_server, "bob", token)
    assert (await bob.next("message"))["id"] == missed[5]["id"]
    await assert_only_new_messages_arrive(alice, bob)


async def test_acknowledging_past_the_last_message_does_not_swallow_later_ones(live_server):
    alice, token = await offline_bob(live_server)
    bob = await live_server.connect("bob", token)
    await send(alice, {"topic": "general", "body": "one"})
    await bob.ok("delivered", {"topic": "general", "seq": 1000})
    await bob.close()

    later = await send(alice, {"topic": "general", "body": "two"})
    bob = await reconnect(live_server, "bob", token)

    assert (await bob.next("message"))["id"] == later["id"]
    await assert_only_new_messages_arrive(alice, bob)


async def test_an_offline_invitee_gets_what_was_said_since_the_invite_then_live_messages(live_server):
    alice = await live_server.user("alice")
    token = await live_server.register("bob")
    await alice.ok("topic:create", {"name": "secret", "private": True})
    await send(alice, {"topic": "secret", "body": "before the invite"})
    await alice.ok("topic:invite", {"topic": "secret", "username": "bob"})
    since = await send(alice, {"topic": "secret", "body": "since the invite"})

    bob = await reconnect(live_server, "bob", token)

    assert await bob.next("message") == since
    live = await send(alice, {"topic": "secret", "body": "live"})
    assert await bob.next("message") == live


async def test_delivered_needs_a_known_topic_and_membership(live_server):
    alice = await live_server.user("alice")
    await live_server.user("bob")
    await alice.ok("topic:create", {"name": "general"})
    carol = await live_server.user("carol")

    assert (await carol.call("delivered", {"topic": "nowhere", "seq": 1}))["error"]["code"] == "not_found"
    assert (await carol.call("delivered", {"topic": "general", "seq": 1}))["error"]["code"] == "forbidden"
    assert (await carol.call("delivered", {"with": "nobody", "seq": 1}))["error"]["code"] == "not_found"


@pytest.fixture
async def small_backlog(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A server that replays at most the newest 3 messages per topic."""
    async with running(settings_for(tmp_path / "data", backlog_per_topic=3)) as server:
        yield server


async def test_the_backlog_is_capped_per_topic_to_the_newest_messages(small_backlog):
    alice, token = await offline_bob(small_backlog)
    missed = [await send(alice, {"topic": "general", "body": f"m{n}"}) for n in range(1, 6)]
    direct = [await send(alice, {"to": "bob", "body": f"d{n}"}) for n in range(1, 5)]

    bob = await reconnect(small_backlog, "bob", token)
    got = await messages(bob, 6)

    assert [m["seq"] for m in got if m["topic"] == "general"] == [3, 4, 5]
    assert [m["seq"] for m in got if m["topic"] == "@alice"] == [2, 3, 4]
    assert {m["id"] for m in got} == {m["id"] for m in missed[2:] + direct[1:]}
    await assert_only_new_messages_arrive(alice, bob)
    page = await bob.ok("history", {"topic": "general", "before_seq": 3})
    assert [m["seq"] for m in page["messages"]] == [1, 2]  # the rest is paged with history


# Ordering under load ----------------------------------------------------------

SENDERS = 20
PER_SENDER = 50


async def test_concurrent_senders_get_gapless_seqs_and_everyone_receives_them_in_order(live_server):
    total = SENDERS * PER_SENDER
    clients = await asyncio.gather(*(live_server.user(f"user{n:02}") for n in range(SENDERS)))

    async def burst(client: Client) -> list[Any]:
        payload = {"topic": "lobby", "body": f"from {client.username}"}
        calls = [client.sio.call("message:send", payload, timeout=30) for _ in range(PER_SENDER)]
        return list(await asyncio.gather(*calls))

    acks = [ack for acks in await asyncio.gather(*(burst(c) for c in clients)) for ack in acks]

    assert all(ack["ok"] for ack in acks)
    assert sorted(ack["data"]["seq"] for ack in acks) == list(range(1, total + 1))
    assert len({ack["data"]["id"] for ack in acks}) == total
    by_seq = {ack["data"]["seq"]: ack["data"] for ack in acks}
    for client in clients:
        received = await messages(client, total)
        assert [m["seq"] for m in received] == list(range(1, total + 1)), client.username
        assert received == [by_seq[seq] for seq in range(1, total + 1)]
