"""Blocking (PROTOCOL.md section 10) as rules: who sees whose messages as blocked, whose typing and
presence stop, and who may message whom.

"When A blocks B, B's direct messages to A and B's invites of A are refused, no new direct
conversation between them can start, typing and presence of B stop reaching A and A's stop reaching
B. In shared topics B's messages still reach A but carry ``blocked: true`` as seen by A."

``blocked_viewers`` is pure; ``Blocks`` (the pairs in memory) is tested over a table of pairs held
in memory instead of the database; the direct-message rule through the message service on SQLite,
without a server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import cast

import pytest

from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError
from server.chat.kernel.events import BlockChanged, NewsMissed
from server.chat.kernel.schemas import Target
from server.chat.rules.blocking import NOBODY, Blocks, blocked_viewers
from server.chat.service import Chat

A, B, C = 1, 2, 3
Y, N = True, False


# Who sees a sender's message as blocked: the members who blocked the sender, no one else.
#
#   blockers of the sender   members          seen as blocked by
VIEWERS = [
    (set(),                   {A, B, C},        ()),      # nobody blocked the sender
    ({A},                     {A, B, C},        (A,)),    # A blocked the sender
    ({A, C},                  {C, A},           (A, C)),  # sorted
    ({A},                     {B, C},           ()),      # A blocked the sender but is not in the topic
    ({A},                     (A,),             (A,)),    # a direct conversation: its other side
]  # fmt: skip


@pytest.mark.parametrize(("blockers", "members", "expected"), VIEWERS)
def test_only_members_who_blocked_the_sender_see_the_message_as_blocked(
    blockers: set[int], members: set[int] | tuple[int, ...], expected: tuple[int, ...]
) -> None:
    assert blocked_viewers(blockers, members) == expected


class _Store:
    """The blocks table as a set of (blocker, blocked) pairs, counting the reads of pairs."""

    def __init__(self, *pairs: tuple[int, int]) -> None:
        self.pairs = set(pairs)
        self.loads = 0

    async def none_at_all(self) -> bool:
        return not self.pairs

    async def involving(self, user_id: int) -> list[tuple[int, int]]:
        self.loads += 1
        return [pair for pair in self.pairs if user_id in pair]


class _Database:
    def __init__(self, store: _Store) -> None:
        self.blocks = store

    @asynccontextmanager
    async def read(self) -> AsyncIterator[_Database]:
        yield self


def blocks_over(store: _Store) -> Blocks:
    return Blocks(cast(Database, _Database(store)))


async def block(blocks: Blocks, store: _Store, user_id: int, other_id: int, blocked: bool = True) -> None:
    """What a committed ``user:block`` (or unblock) does: the row, then the event every node's hub
    hands to ``Blocks``, a sink of its own."""
    (store.pairs.add if blocked else store.pairs.discard)((user_id, other_id))
    await blocks.deliver(BlockChanged(user_id, other_id, blocked))


async def test_when_a_blocks_b_bs_messages_are_blocked_for_a_and_not_the_other_way() -> None:
    store = _Store((A, B))
    blocks = blocks_over(store)

    assert await blocks.blockers_of(B) == {A} and await blocks.blockers_of(A) == set()
    assert await blocks.blocks(A, B) and not await blocks.blocks(B, A)


async def test_after_missed_news_the_pairs_are_read_again() -> None:
    store = _Store((A, B))
    blocks = blocks_over(store)
    assert await blocks.blockers_of(B) == {A}
    store.pairs.discard((A, B))  # an unblock whose event this node missed

    await blocks.deliver(NewsMissed())

    assert await blocks.blockers_of(B) == set()


async def test_when_a_blocks_b_typing_and_presence_stop_both_ways() -> None:
    blocks = blocks_over(_Store((A, B)))

    assert await blocks.apart(A) == {B} and await blocks.apart(B) == {A}
    assert await blocks.between(A, B) and await blocks.between(B, A)
    assert await blocks.apart(C) == NOBODY and not await blocks.between(A, C)


async def test_unblocking_restores_everything_for_what_follows() -> None:
    store = _Store()
    blocks = blocks_over(store)
    await blocks.apart(A), await blocks.apart(B)  # both loaded (and nobody blocked anyone yet)

    await block(blocks, store, A, B)
    assert await blocks.blockers_of(B) == {A} and await blocks.apart(B) == {A}
    await block(blocks, store, A, B, blocked=False)
    assert await blocks.blockers_of(B) == set() and await blocks.apart(A) == NOBODY


async def test_while_nobody_blocked_anyone_no_pairs_are_read() -> None:
    store = _Store()
    blocks = blocks_over(store)

    for user_id in (A, B, C):
        assert await blocks.blockers_of(user_id) == set() and await blocks.apart(user_id) == NOBODY
    assert blocks.known_blockers(A) == set() and store.loads == 0


async def test_a_node_that_missed_news_reads_the_pairs_again() -> None:
    store = _Store()
    blocks = blocks_over(store)
    assert await blocks.blockers_of(B) == set()
    store.pairs.add((A, B))  # committed elsewhere; this node missed the event

    blocks.forget_all()

    assert blocks.known_blockers(B) is None and await blocks.blockers_of(B) == {A}


# May the sender message the peer directly? "B's direct messages to A are refused" once A blocked B,
# and "no new direct conversation between them can start", whoever blocked whom.
#
#   alice blocked bob  bob blocked alice  conversation exists  alice -> bob  bob -> alice
DIRECT = [
    (N,                N,                 N,                   "ok",         "ok"),
    (Y,                N,                 N,                   "refused",    "refused"),  # none starts
    (N,                Y,                 N,                   "refused",    "refused"),
    (Y,                N,                 Y,                   "ok",         "refused"),  # the blocker may
    (N,                Y,                 Y,                   "refused",    "ok"),
    (Y,                Y,                 N,                   "refused",    "refused"),
    (N,                N,                 Y,                   "ok",         "ok"),
    (Y,                Y,                 Y,                   "refused",    "refused"),
]  # fmt: skip


@pytest.mark.parametrize(("alice_blocked", "bob_blocked", "exists", "alice_to_bob", "bob_to_alice"), DIRECT)
async def test_a_blocked_user_may_not_message_the_blocker_and_no_new_conversation_starts(
    chat: Chat,
    make_user: Callable[[str], Awaitable[Actor]],
    alice_blocked: bool,
    bob_blocked: bool,
    exists: bool,
    alice_to_bob: str,
    bob_to_alice: str,
) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    if exists:
        await chat.messages.send(alice, Target(user="bob"), "hi")
    if alice_blocked:
        await chat.blocks.block(alice, "bob")
    if bob_blocked:
        await chat.blocks.block(bob, "alice")

    async def answer(sender: Actor, peer: str) -> str:
        try:
            await chat.messages.send(sender, Target(user=peer), "hello")
        except ChatError as refusal:
            assert (refusal.code.value, refusal.message) == ("forbidden", "cannot message this user")
            return "refused"
        return "ok"

    assert (await answer(alice, "bob"), await answer(bob, "alice")) == (alice_to_bob, bob_to_alice)
