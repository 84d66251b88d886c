"""After missed news (``NewsMissed``: a broker outage), the node reads again the topics of the users
connected here and moves their sockets to match (server.chat.connections.refill.Refill,
``MembershipsKnown``). A join or a leave made while that read runs is news at least as fresh as
the read: it stands. The read must not take a socket out of a topic its user just joined (it
would miss every message of it), nor back into one its user just left (it would read on).

The read is held at the database (SQLite: the statement waits in its connection's thread) while
the user joins or leaves on the same node, the real way; then it finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.chat.kernel.events import NewsMissed
from tests.holds import held_statements
from tests.support import WAIT, Client, LiveServer

MEMBERSHIPS_OF_USERS = "SELECT memberships.user_id, memberships.topic_id"  # Refill.memberships's read


@asynccontextmanager
async def reading_memberships_again(live_server: LiveServer) -> AsyncIterator[None]:
    """News was missed: inside the block the node's read of its users' memberships waits."""
    async with held_statements(live_server.chat.db, MEMBERSHIPS_OF_USERS) as held:
        missed = asyncio.ensure_future(live_server.chat.hub.tell_here(NewsMissed()))
        await held.wait()
        yield
        await held.release()
        await asyncio.wait_for(missed, WAIT)


async def two_in_marker(live_server: LiveServer) -> tuple[Client, Client]:
    """alice and bob, both in ``marker``; bob owns ``news``."""
    alice, bob = await live_server.user("alice"), await live_server.user("bob")
    await bob.ok("topic:create", {"name": "news"})
    await bob.ok("topic:create", {"name": "marker"})
    await alice.ok("topic:subscribe", {"topic": "marker"})
    return alice, bob


async def test_a_join_made_while_the_memberships_are_read_again_stands(live_server: LiveServer) -> None:
    alice, bob = await two_in_marker(live_server)

    async with reading_memberships_again(live_server):
        await alice.ok("topic:subscribe", {"topic": "news"})

    sent = await bob.ok("message:send", {"topic": "news", "body": "after the read"})
    got = await alice.next("message")
    assert (got["topic"], got["id"]) == ("news", sent["id"])


async def test_a_leave_made_while_the_memberships_are_read_again_stands(live_server: LiveServer) -> None:
    alice, bob = await two_in_marker(live_server)
    await alice.ok("topic:subscribe", {"topic": "news"})

    async with reading_memberships_again(live_server):
        await alice.ok("topic:unsubscribe", {"topic": "news"})

    await bob.ok("message:send", {"topic": "news", "body": "not for alice any more"})
    marker = await bob.ok("message:send", {"topic": "marker", "body": "sent after it"})
    got = await alice.next("message")  # the news one, sent first on the same socket, would come first
    assert (got["topic"], got["id"]) == ("marker", marker["id"])


async def test_a_topic_read_back_holds_its_messages_since_the_moment_and_its_newest_seq(
    live_server: LiveServer,
) -> None:
    """What a node that begins to read a topic hands its seq gate (``in_topic_since``): the topic's
    messages since a moment, none of another topic's, and the newest seq, deleted ones counted."""
    from datetime import UTC, datetime, timedelta

    _alice, bob = await two_in_marker(live_server)
    await bob.ok("message:send", {"topic": "marker", "body": "another topic's"})
    first = await bob.ok("message:send", {"topic": "news", "body": "one"})
    second = await bob.ok("message:send", {"topic": "news", "body": "two"})
    gone = await bob.ok("message:send", {"topic": "news", "body": "three"})
    await bob.ok("message:delete", {"id": gone["id"]})
    async with live_server.chat.db.read() as repos:
        news = await repos.topics.by_name("news")
    assert news is not None
    refill = live_server.chat.hub.missed
    assert refill is not None

    read = await refill.in_topic_since(news.id, datetime.now(UTC) - timedelta(minutes=1))

    got = [(event.topic_id, event.message.id) for event in read.events]
    assert got == [(news.id, first["id"]), (news.id, second["id"])]
    assert read.last_seq == 3
    later = await refill.in_topic_since(news.id, datetime.now(UTC) + timedelta(minutes=1))
    assert later.events == [] and later.last_seq == 3
    assert (await refill.in_topic_since(news.id + 1000, datetime.now(UTC))).last_seq is None
