"""Group commit: concurrent sends share transactions, and each still gets its own outcome."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from db.models import Message
from server.chat.errors import ChatError, ErrorCode
from server.chat.places import Place
from server.chat.schemas import Target
from server.chat.users import Actor
from server.chat.writer import Destination

LOBBY = Target(topic="lobby")


async def stored(chat, topic_id: int) -> list[Message]:
    async with chat.db.read() as repos:
        result = await repos.session.execute(
            select(Message).where(Message.topic_id == topic_id).order_by(Message.seq)
        )
        return list(result.scalars())


def resolved(place: Place):
    async def resolve() -> Destination:
        return Destination(place)

    return resolve


async def lobby_id(chat) -> int:
    topic = await chat.directory.topic("lobby")
    assert topic is not None
    return topic.topic_id


async def test_concurrent_sends_share_transactions_and_take_gapless_seqs_in_order(chat, make_user):
    users = [await make_user(f"user{i}") for i in range(5)]
    await chat.messages.send(users[0], LOBBY, "warm-up")  # the directory now knows the topic
    batches = chat.messages.writer.batches

    sent = await asyncio.gather(
        *(chat.messages.send(users[i % 5], LOBBY, f"m{i}", f"c{i}") for i in range(200))
    )

    assert chat.messages.writer.batches - batches < 200  # group commit: fewer transactions than sends
    rows = await stored(chat, await lobby_id(chat))
    assert [m.seq for m in rows] == list(range(1, 202))
    assert sorted(m.seq for m in sent) == list(range(2, 202))
    assert {(m.id, m.seq, m.body) for m in sent} == {(r.id, r.seq, r.body) for r in rows[1:]}
    # Each sender's own sends keep their submission order.
    by_body = {m.body: m.seq for m in sent}
    for i in range(5, 200):
        assert by_body[f"m{i}"] > by_body[f"m{i - 5}"]


async def test_a_client_id_repeated_inside_one_batch_stores_one_message(chat, make_user):
    alice = await make_user("alice")
    await chat.messages.send(alice, LOBBY, "warm-up")

    first, again, other = await asyncio.gather(
        chat.messages.send(alice, LOBBY, "once", "same"),
        chat.messages.send(alice, LOBBY, "once", "same"),
        chat.messages.send(alice, LOBBY, "another", "different"),
    )

    assert first == again
    assert other.id != first.id
    bodies = Counter(m.body for m in await stored(chat, await lobby_id(chat)))
    assert bodies == {"warm-up": 1, "once": 1, "another": 1}


async def test_a_client_id_stored_in_an_earlier_batch_returns_the_original(chat, make_user):
    alice = await make_user("alice")
    original = await chat.messages.send(alice, LOBBY, "hello", "c-1")

    again = await chat.messages.send(alice, LOBBY, "hello again", "c-1")

    assert again == original
    assert [m.body for m in await stored(chat, await lobby_id(chat))] == ["hello"]


async def test_a_send_the_database_refuses_fails_alone_and_its_batch_is_stored(chat, make_user):
    alice = await make_user("alice")
    topic_id = await lobby_id(chat)
    ghost = Actor(id=999_999, username="ghost")  # no such user: the foreign key refuses the row
    place = Place(topic_id, "lobby", "public")

    results = await asyncio.gather(
        *(chat.messages.writer.submit(alice, resolved(place), f"m{i}", None) for i in range(5)),
        chat.messages.writer.submit(ghost, resolved(place), "refused", None),
        *(chat.messages.writer.submit(alice, resolved(place), f"m{i}", None) for i in range(5, 10)),
        return_exceptions=True,
    )

    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and results[5] is failures[0]
    rows = await stored(chat, topic_id)
    assert [m.body for m in rows] == [f"m{i}" for i in range(10)]
    assert [m.seq for m in rows] == list(range(1, 11))


async def test_a_non_member_in_a_burst_is_refused_and_the_others_are_stored(chat, make_user):
    alice, mallory = await make_user("alice"), await make_user("mallory")
    await chat.topics.create(alice, "secret", private=True)

    results = await asyncio.gather(
        *(chat.messages.send(alice, Target(topic="secret"), f"m{i}") for i in range(10)),
        chat.messages.send(mallory, Target(topic="secret"), "let me in"),
        return_exceptions=True,
    )

    assert isinstance(results[10], ChatError) and results[10].code is ErrorCode.NOT_FOUND
    assert sorted(r.seq for r in results[:10] if not isinstance(r, BaseException)) == list(range(1, 11))


async def test_membership_changes_reach_the_send_path_at_once(chat, make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    await chat.topics.create(alice, "general")
    await chat.messages.send(alice, Target(topic="general"), "hi")  # members of general now cached

    await chat.topics.subscribe(bob, "general")
    assert (await chat.messages.send(bob, Target(topic="general"), "joined")).seq == 2

    await chat.topics.unsubscribe(bob, "general")
    with pytest.raises(ChatError) as refused:
        await chat.messages.send(bob, Target(topic="general"), "still here?")
    assert refused.value.code is ErrorCode.FORBIDDEN


async def test_one_senders_burst_is_stored_in_the_order_it_was_sent_even_when_nothing_is_cached(
    chat, make_user
):
    alice = await make_user("alice")
    await chat.topics.create(alice, "fresh")  # the directory has not looked this topic up yet

    sent = await asyncio.gather(
        *(chat.messages.send(alice, Target(topic="fresh"), f"m{i}") for i in range(50))
    )

    assert [m.seq for m in sent] == list(range(1, 51))
