"""What the send path reads from the database the first time it meets a sender or a topic
(server/chat/conversations/directory.py, server/chat/rules/blocking.py): the caches it needs are
filled in as few reads as their rules allow, so that a burst of new senders does not pay a query each for what
is almost always empty."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from server.chat.kernel.errors import ChatError
from server.chat.kernel.schemas import Target


@contextmanager
def statements(chat) -> Iterator[list[str]]:
    """The SQL statements the chat's ORM engine runs inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = chat.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_while_nobody_has_blocked_anybody_new_senders_read_the_block_table_once(chat, make_user):
    users = [await make_user(f"sender{i}") for i in range(5)]
    with statements(chat) as seen:
        for user in users:
            await chat.messages.send(user, Target(topic="lobby"), "hello")
    assert sum("FROM blocks" in s for s in seen) == 1


async def test_a_block_ends_it_and_is_enforced_at_once(chat, make_user):
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    await chat.messages.send(bob, Target(user="alice"), "hi")  # nobody blocked anybody: known now
    await chat.blocks.block(alice, "bob")

    shown = await chat.messages.send(bob, Target(topic="lobby"), "after")
    with pytest.raises(ChatError, match="cannot message this user"):
        await chat.messages.send(bob, Target(user="alice"), "hello?")
    assert shown.blocked is False  # bob's own view
    await chat.messages.send(carol, Target(user="bob"), "carol is not blocked")


async def test_a_topics_members_and_mutes_are_read_in_one_statement(chat, make_user):
    alice = await make_user("alice")
    await chat.topics.create(alice, "fresh")
    with statements(chat) as seen:
        await chat.messages.send(alice, Target(topic="fresh"), "first")
    assert sum("FROM memberships" in s for s in seen) == 1
