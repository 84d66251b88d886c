"""Messages and delivery services called directly (DESIGN.md "Delivery").

No transport: the hub's only sink is the recording one from conftest, so these
tests pin down what is stored, what is published, to whom, and when.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from db.models import Message, Topic
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.events import MessageCreated, MessageDeleted, MessageEdited, ToTopic, ToUser
from server.chat.kernel.schemas import Target
from server.chat.service import Chat
from tests.chat.conftest import ON_BOTH_DATABASES
from tests.support import count, statements

LOBBY = Target(topic="lobby")


async def topic_id(chat: Chat, name: str) -> int:
    async with chat.db.read() as repos:
        topic = await repos.topics.by_name(name)
    assert topic is not None and topic.id is not None
    return topic.id


async def refused(call: Any) -> ErrorCode:
    with pytest.raises(ChatError) as caught:
        await call
    return caught.value.code


# Sending ------------------------------------------------------------------------


async def test_send_stores_then_publishes_one_event_to_the_topic(chat, sink, make_user):
    alice = await make_user("alice")

    sent = await chat.messages.send(alice, LOBBY, "hello", "c1")

    assert (sent.topic, sent.kind, sent.seq, sent.sender, sent.body, sent.client_id) == (
        "lobby",
        "public",
        1,
        "alice",
        "hello",
        "c1",
    )
    lobby = await topic_id(chat, "lobby")
    assert sink.of(MessageCreated) == [MessageCreated(sent, ToTopic(lobby), lobby)]
    assert sink.committed == [True]


async def test_a_direct_message_publishes_one_event_per_side_each_naming_the_other(chat, sink, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")

    sent = await chat.messages.send(alice, Target(user="BOB"), "psst")

    assert (sent.topic, sent.kind, sent.seq) == ("@bob", "direct", 1)
    conversation = sink.of(MessageCreated)[0].topic_id
    assert sink.of(MessageCreated) == [
        MessageCreated(sent, ToUser(alice.id), conversation),
        MessageCreated(sent.model_copy(update={"topic": "@alice"}), ToUser(bob.id), conversation),
    ]
    assert conversation not in (0, await topic_id(chat, "lobby"))
    assert sink.committed == [True, True]


async def test_seqs_count_up_per_topic_and_ids_are_unique_across_topics(chat, make_user):
    alice = await make_user("alice")
    await make_user("bob")

    sent = [
        await chat.messages.send(alice, LOBBY, "l1"),
        await chat.messages.send(alice, Target(user="bob"), "d1"),
        await chat.messages.send(alice, LOBBY, "l2"),
        await chat.messages.send(alice, Target(user="bob"), "d2"),
    ]

    assert [m.seq for m in sent] == [1, 1, 2, 2]
    assert len({m.id for m in sent}) == 4


async def test_concurrent_sends_take_distinct_consecutive_seqs(chat, make_user):
    alice = await make_user("alice")

    sent = await asyncio.gather(*(chat.messages.send(alice, LOBBY, f"m{n}") for n in range(40)))

    assert sorted(m.seq for m in sent) == list(range(1, 41))
    async with chat.db.read() as repos:
        topic = await repos.topics.by_name("lobby")
    assert topic is not None and topic.last_seq == 40


async def test_a_repeated_client_id_returns_the_original_and_stores_and_publishes_nothing(
    chat, sink, make_user
):
    alice = await make_user("alice")
    original = await chat.messages.send(alice, LOBBY, "first", "same")
    sink.clear()

    repeated = await chat.messages.send(alice, LOBBY, "second", "same")
    racing = await asyncio.gather(*(chat.messages.send(alice, LOBBY, "third", "race") for _ in range(5)))

    assert repeated == original
    assert len({m.id for m in racing}) == 1
    assert await count(chat, Message) == 2
    assert [e.message.client_id for e in sink.of(MessageCreated)] == ["race"]


async def test_the_same_client_id_from_two_senders_is_two_messages(chat, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")

    mine = await chat.messages.send(alice, LOBBY, "a", "shared")
    theirs = await chat.messages.send(bob, LOBBY, "b", "shared")

    assert mine.id != theirs.id and (mine.seq, theirs.seq) == (1, 2)


async def test_refused_sends_store_and_publish_nothing(chat, sink, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")
    await chat.topics.create(bob, "secret", private=True)
    await chat.topics.create(bob, "open")
    sink.clear()
    topics = await count(chat, Topic)

    assert await refused(chat.messages.send(alice, Target(topic="secret"), "x")) == ErrorCode.NOT_FOUND
    assert await refused(chat.messages.send(alice, Target(topic="open"), "x")) == ErrorCode.FORBIDDEN
    assert await refused(chat.messages.send(alice, Target(topic="nowhere"), "x")) == ErrorCode.NOT_FOUND
    assert await refused(chat.messages.send(alice, Target(user="nobody"), "x")) == ErrorCode.NOT_FOUND
    assert await refused(chat.messages.send(alice, Target(user="alice"), "x")) == ErrorCode.INVALID

    assert sink.events == []
    assert await count(chat, Message) == 0
    assert await count(chat, Topic) == topics


# Editing and deleting ---------------------------------------------------------------


async def test_only_the_sender_edits_and_the_edit_is_published_after_commit(chat, sink, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")
    sent = await chat.messages.send(alice, LOBBY, "typo")
    sink.clear()

    assert await refused(chat.messages.edit(bob, sent.id, "mine")) == ErrorCode.FORBIDDEN
    edited = await chat.messages.edit(alice, sent.id, "fixed")

    assert (edited.id, edited.body, edited.seq) == (sent.id, "fixed", 1) and edited.edited_at
    lobby = await topic_id(chat, "lobby")
    assert sink.events == [MessageEdited(edited, ToTopic(lobby), lobby)]
    assert sink.committed == [True]


async def test_the_topic_owner_may_delete_and_history_then_hides_the_body(chat, sink, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")
    await chat.topics.create(alice, "general")
    await chat.topics.subscribe(bob, "general")
    sent = await chat.messages.send(bob, Target(topic="general"), "oops")
    sink.clear()

    await chat.messages.delete(alice, sent.id)
    page = await chat.messages.history(bob, Target(topic="general"), None, 50)

    general = await topic_id(chat, "general")
    assert sink.events == [MessageDeleted(sent.id, "general", ToTopic(general), general)]
    assert [(m.id, m.body) for m in page.messages] == [(sent.id, "")]
    assert await refused(chat.messages.delete(alice, sent.id)) == ErrorCode.NOT_FOUND
    assert await chat.delivery.backlog(bob.id) == []


# History --------------------------------------------------------------------------


async def test_history_pages_know_whether_more_remain(chat, make_user):
    alice = await make_user("alice")
    for n in range(10):
        await chat.messages.send(alice, LOBBY, f"m{n}")

    async def page(before: int | None, limit: int) -> tuple[list[int], bool]:
        result = await chat.messages.history(alice, LOBBY, before, limit)
        return [m.seq for m in result.messages], result.has_more

    assert await page(None, 10) == (list(range(1, 11)), False)
    assert await page(None, 9) == (list(range(2, 11)), True)
    assert await page(6, 5) == ([1, 2, 3, 4, 5], False)
    assert await page(7, 5) == ([2, 3, 4, 5, 6], True)
    assert await page(1, 5) == ([], False)
    assert await page(99, 3) == ([8, 9, 10], True)


# Delivery ---------------------------------------------------------------------------


async def test_the_backlog_is_everything_above_the_acknowledged_seq_oldest_first(chat, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")
    sent = [await chat.messages.send(alice, LOBBY, f"m{n}") for n in range(5)]
    direct = await chat.messages.send(alice, Target(user="bob"), "psst")

    assert await chat.delivery.backlog(bob.id) == [*sent, direct.model_copy(update={"topic": "@alice"})]

    await chat.delivery.acknowledge(bob, LOBBY, 3)
    await chat.delivery.acknowledge(bob, Target(user="alice"), 1)
    assert await chat.delivery.backlog(bob.id) == sent[3:]


async def test_the_backlog_of_every_topic_is_read_with_one_query(chat, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")
    for name in ("t1", "t2", "t3"):
        await chat.topics.create(alice, name)
        await chat.topics.subscribe(bob, name)
    sent = [
        await chat.messages.send(alice, Target(topic=t), f"{t} {n}")
        for t in ("t1", "t2", "t3")
        for n in (1, 2)
    ]
    direct = await chat.messages.send(alice, Target(user="bob"), "psst")

    with statements(chat.db) as seen:
        backlog = await chat.delivery.backlog(bob.id)

    assert sorted(backlog, key=lambda m: m.id) == [*sent, direct.model_copy(update={"topic": "@alice"})]
    assert len(seen) == 1, seen


@ON_BOTH_DATABASES
async def test_backlogs_asked_for_together_are_one_read_and_each_is_what_it_is_alone(chat, make_user):
    """A reconnect storm's backlogs: one statement for the users arriving at once, and each user
    gets exactly its own (its direct conversations' peer, its blocks, its cursors)."""
    alice, bob, carol, dave = [await make_user(name) for name in ("alice", "bob", "carol", "dave")]
    await chat.topics.create(alice, "t1")
    for user in (bob, carol):
        await chat.topics.subscribe(user, "t1")
    for n in range(3):
        await chat.messages.send(alice, LOBBY, f"lobby {n}")
        await chat.messages.send(bob, Target(topic="t1"), f"t1 {n}")
    await chat.messages.send(alice, Target(user="bob"), "to bob")
    await chat.messages.send(carol, Target(user="alice"), "to alice")
    await chat.blocks.block(carol, "bob")  # carol's view of bob's messages says blocked
    await chat.delivery.acknowledge(dave, LOBBY, 2)
    users = [alice, bob, carol, dave, alice]  # alice twice: two sockets of one user
    alone = [await chat.delivery.backlog(user.id) for user in users]
    assert any(m.blocked for m in alone[2]) and any(m.topic == "@alice" for m in alone[1])
    lobby = [m.seq for m in alone[0] if m.topic == "lobby"]
    assert [seq for seq in lobby if seq > 2] == [m.seq for m in alone[3]]  # dave's cursor

    with statements(chat.db) as seen:
        together = await asyncio.gather(*(chat.delivery.backlog(user.id) for user in users))

    assert together == alone
    assert len(seen) == 1, seen


@ON_BOTH_DATABASES
async def test_a_message_in_backlogs_read_together_is_rendered_once_unless_its_viewer_changes_it(
    chat, make_user
):
    """A reconnect storm's backlogs hold the same messages many times (a topic's members all
    missed them), read a few users at a time: each is made into what a client sees once, and that
    is handed to each member, unless what it shows depends on who looks (a reaction's ``me``, a
    blocked sender); an edit is a new rendering."""
    alice, bob, carol, eve = [await make_user(name) for name in ("alice", "bob", "carol", "eve")]
    plain = await chat.messages.send(alice, LOBBY, "plain")
    liked = await chat.messages.send(alice, LOBBY, "liked")
    await chat.reactions.add(bob, liked.id, "👍")
    by_dave = await chat.messages.send(await make_user("dave"), LOBBY, "dave's")
    await chat.blocks.block(carol, "dave")

    bobs, carols = [
        {m.id: m for m in backlog}
        for backlog in await asyncio.gather(chat.delivery.backlog(bob.id), chat.delivery.backlog(carol.id))
    ]

    eves = {m.id: m for m in await chat.delivery.backlog(eve.id)}  # a read of its own

    assert bobs[plain.id] is carols[plain.id] is eves[plain.id]
    assert [r.me for r in bobs[liked.id].reactions] == [True]
    assert [r.me for r in carols[liked.id].reactions] == [False]
    assert (bobs[by_dave.id].blocked, carols[by_dave.id].blocked) == (False, True)
    await chat.messages.edit(alice, plain.id, "plain, edited")
    again = {m.id: m for m in await chat.delivery.backlog(bob.id)}
    assert (again[plain.id].body, again[plain.id].edited_at is not None) == ("plain, edited", True)


async def test_delivered_cursors_only_move_forward_across_flushes(chat, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")
    sent = [await chat.messages.send(alice, LOBBY, f"m{n}") for n in range(6)]

    await chat.delivery.acknowledge(bob, LOBBY, 5)
    await chat.delivery.acknowledge(bob, LOBBY, 2)  # same batch
    await chat.delivery.flush()
    await chat.delivery.acknowledge(bob, LOBBY, 1)  # a later batch

    assert await chat.delivery.backlog(bob.id) == sent[5:]


async def test_an_acknowledgement_past_the_end_does_not_cover_later_messages(chat, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")
    await chat.messages.send(alice, LOBBY, "one")

    await chat.delivery.acknowledge(bob, LOBBY, 10**6)
    later = await chat.messages.send(alice, LOBBY, "two")

    assert await chat.delivery.backlog(bob.id) == [later]


async def test_a_backlog_sees_the_cursors_of_a_flush_still_in_flight(chat, make_user):
    """The periodic flusher may have taken the pending cursors and not yet committed them."""
    alice = await make_user("alice")
    bob = await make_user("bob")

    for n in range(20):
        await chat.messages.send(alice, LOBBY, f"m{n}")
        await chat.delivery.acknowledge(bob, LOBBY, n + 1)
        # The first task takes the pending cursors and starts writing; the backlog comes second.
        _, backlog = await asyncio.gather(chat.delivery.flush(), chat.delivery.backlog(bob.id))
        assert backlog == [], f"round {n}"


async def test_acknowledging_needs_membership(chat, make_user):
    alice = await make_user("alice")
    bob = await make_user("bob")
    await chat.topics.create(alice, "general")

    assert await refused(chat.delivery.acknowledge(bob, Target(topic="general"), 1)) == ErrorCode.FORBIDDEN
    assert await refused(chat.delivery.acknowledge(bob, Target(topic="nowhere"), 1)) == ErrorCode.NOT_FOUND


async def test_a_new_member_starts_with_nothing_to_catch_up(chat, make_user):
    alice = await make_user("alice")
    await chat.topics.create(alice, "general")
    for n in range(3):
        await chat.messages.send(alice, Target(topic="general"), f"m{n}")
    bob = await make_user("bob")

    await chat.topics.subscribe(bob, "general")

    assert await chat.delivery.backlog(bob.id) == []
