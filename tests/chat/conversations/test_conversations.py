"""Direct conversations by id (``chat.conversations``), called directly: the domain side of the
messenger's ConversationId (PROTOCOL.md 7.2)."""

from __future__ import annotations

import asyncio

import pytest

from db.models import Membership, Topic
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.schemas import Target
from tests.support import count_rows, statements


async def test_open_is_idempotent_from_both_sides_and_concurrent_opens_make_one(chat, make_user):
    alice, bob = await make_user("alice"), await make_user("bobby")

    ids = await asyncio.gather(*(chat.conversations.open(alice, "BOBBY") for _ in range(5)))
    ids.append(await chat.conversations.open(bob, "alice"))

    assert len(set(ids)) == 1
    assert await count_rows(chat, Topic, Membership) == (2, 4)  # lobby + the conversation; 2 + 2 members


async def test_open_refuses_an_unknown_user_and_oneself(chat, make_user):
    alice = await make_user("alice")

    with pytest.raises(ChatError) as unknown:
        await chat.conversations.open(alice, "ghost")
    with pytest.raises(ChatError) as oneself:
        await chat.conversations.open(alice, "alice")

    assert (unknown.value.code, oneself.value.code) == (ErrorCode.NOT_FOUND, ErrorCode.INVALID)
    assert await count_rows(chat, Topic) == (1,)


async def test_peer_names_the_other_member_and_hides_everything_else_alike(chat, make_user):
    alice, bob, carol = await make_user("alice"), await make_user("bobby"), await make_user("carol")
    ours = await chat.conversations.open(alice, "bobby")
    theirs = await chat.conversations.open(bob, "carol")
    async with chat.db.read() as repos:
        lobby = await repos.topics.by_name("lobby")
    assert lobby is not None and lobby.id is not None

    assert (await chat.conversations.peer(alice, ours), await chat.conversations.peer(bob, ours)) == (
        "bobby",
        "alice",
    )
    for hidden in (theirs, lobby.id, theirs + 100):
        with pytest.raises(ChatError) as refused:
            await chat.conversations.peer(alice, hidden)
        assert (refused.value.code, refused.value.message) == (
            ErrorCode.NOT_FOUND,
            f"no conversation with id {hidden}",
        )
    assert await chat.conversations.peer(carol, theirs) == "bobby"


async def test_mine_lists_each_conversation_with_its_newest_live_message_in_a_fixed_number_of_queries(
    chat, make_user
):
    alice, bob, carol = await make_user("alice"), await make_user("bobby"), await make_user("carol")
    with_bob = await chat.conversations.open(alice, "bobby")
    kept = await chat.messages.send(bob, Target(user="alice"), "kept")
    gone = await chat.messages.send(alice, Target(user="bobby"), "gone")
    await chat.messages.delete(alice, gone.id)
    with_carol = await chat.conversations.open(carol, "alice")

    with statements(chat.db) as seen:
        mine = await chat.conversations.mine(alice)

    assert [(c.id, c.peer) for c in mine] == [(with_bob, "bobby"), (with_carol, "carol")]
    assert mine[0].last_message is not None
    assert (mine[0].last_message.id, mine[0].last_message.topic) == (kept.id, "@bobby")
    assert mine[1].last_message is None
    assert len(seen) == 3  # memberships, peers, newest messages
