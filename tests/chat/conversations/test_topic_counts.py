"""A topic's ``members`` and ``online`` counts (``server/chat/conversations/topic_counts.py``) over a
real SQLite file and this process's presence registry: exact on every view for a topic of a few
members; a crowded topic's counted once per node every few seconds, by one caller at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from server.chat.conversations.topic_counts import TopicCounts
from server.chat.kernel.actors import Actor
from server.chat.service import Chat

MakeUser = Callable[[str], Awaitable[Actor]]


class Clock:
    """The counts' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def lobby_id(chat: Chat) -> int:
    async with chat.db.read() as repos:
        topic = await repos.topics.by_name("lobby")
        assert topic is not None
        return topic.id


async def counts_of(chat: Chat, counts: TopicCounts, topic_id: int) -> tuple[int, int]:
    async with chat.db.read() as repos:
        return (await counts.of(repos, [topic_id]))[topic_id]


async def waited(counts: TopicCounts, callers: int = 1) -> None:
    """Until ``callers`` wait for another's count (their reads go through aiosqlite's thread)."""
    while counts.waited < callers:
        await asyncio.sleep(0.005)


async def test_a_topic_of_few_members_is_counted_exactly_on_every_view(
    chat: Chat, make_user: MakeUser
) -> None:
    counts = TopicCounts(chat.presence.online_among, crowd=10, fresh=60.0)
    alice = await make_user("alice")
    lobby = await lobby_id(chat)
    assert await counts_of(chat, counts, lobby) == (1, 0)

    await chat.presence.registry.arrive(alice.id)
    bob = await make_user("bobby")
    assert await counts_of(chat, counts, lobby) == (2, 1)  # at once, though 60 s are not past

    await chat.topics.unsubscribe(bob, "lobby")
    assert await counts_of(chat, counts, lobby) == (1, 1)
    assert counts.counted == 0  # nothing kept


async def test_a_crowded_topics_counts_are_kept_until_they_are_no_longer_fresh(
    chat: Chat, make_user: MakeUser
) -> None:
    clock = Clock()
    counts = TopicCounts(chat.presence.online_among, crowd=2, fresh=5.0, clock=clock)
    users = [await make_user(name) for name in ("alice", "bobby", "carol")]
    await chat.presence.registry.arrive(users[0].id)
    lobby = await lobby_id(chat)
    assert await counts_of(chat, counts, lobby) == (3, 1)

    await make_user("dave1")
    await chat.presence.registry.arrive(users[1].id)
    clock.now += 4.9
    assert await counts_of(chat, counts, lobby) == (3, 1)  # kept: counted 4.9 s ago
    clock.now += 0.2
    assert await counts_of(chat, counts, lobby) == (4, 2)  # counted again
    assert counts.counted == 2


async def test_views_of_a_crowded_topic_while_it_is_counted_wait_for_that_count(
    chat: Chat, make_user: MakeUser
) -> None:
    """A storm of page loads asks for #lobby at one moment: presence is asked about its members
    once, not once a page."""
    asked: list[int] = []
    answer = asyncio.Event()

    async def slow(user_ids: Iterable[int]) -> set[int]:
        asked.append(len(list(user_ids)))
        await answer.wait()
        return await chat.presence.online_among(user_ids)

    counts = TopicCounts(slow, crowd=2, fresh=5.0)
    for name in ("alice", "bobby", "carol", "dave1"):
        await chat.presence.registry.arrive((await make_user(name)).id)
    lobby = await lobby_id(chat)
    views = [asyncio.ensure_future(counts_of(chat, counts, lobby)) for _ in range(5)]
    try:
        await asyncio.wait_for(waited(counts, 4), 10)
    finally:
        answer.set()  # a failed wait leaves no view holding its database connection

    assert await asyncio.gather(*views) == [(4, 4)] * 5
    assert asked == [4]
    assert counts.counted == 1


async def test_when_the_caller_counting_is_cancelled_a_waiting_caller_counts_instead(
    chat: Chat, make_user: MakeUser
) -> None:
    """Presence answers the first count slowly and its caller goes away (a client that left):
    the caller waiting for that count is not left waiting nor failed, it counts itself."""
    asked = asyncio.Event()
    answer = asyncio.Event()

    async def slow_first(user_ids: Iterable[int]) -> set[int]:
        if not asked.is_set():
            asked.set()
            await answer.wait()
        return await chat.presence.online_among(user_ids)

    counts = TopicCounts(slow_first, crowd=2, fresh=5.0)
    for name in ("alice", "bobby", "carol"):
        await chat.presence.registry.arrive((await make_user(name)).id)
    lobby = await lobby_id(chat)
    first = asyncio.ensure_future(counts_of(chat, counts, lobby))
    second = None
    try:
        await asyncio.wait_for(asked.wait(), 10)
        second = asyncio.ensure_future(counts_of(chat, counts, lobby))
        await asyncio.wait_for(waited(counts), 10)  # the second waits for the first's count
    finally:
        first.cancel()
    assert second is not None

    assert await asyncio.wait_for(second, 10) == (3, 3)
    assert first.cancelled()
    assert counts.counted == 1
