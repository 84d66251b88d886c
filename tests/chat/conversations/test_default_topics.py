"""Servers starting together on one database each ensure the default topics exist."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

import pytest

from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.service import Chat
from tests.support import PASSWORD

NAMES = [f"topic{i}" for i in range(20)]


async def test_two_servers_ensuring_the_same_topics_at_once_both_succeed_and_make_each_once(two_nodes):
    first, second = two_nodes
    for name in NAMES:
        await asyncio.gather(first.topics.ensure_public(name), second.topics.ensure_public(name))
    async with first.db.read() as repos:
        for name in NAMES:
            assert (await repos.topics.by_name(name)) is not None
    listed = await first.topic_admin.list()
    assert sorted(t.name for t in listed.topics) == sorted(NAMES)


async def test_a_default_topic_named_like_a_user_is_not_created_and_the_log_says_so(
    chat: Chat, caplog: pytest.LogCaptureFixture
):
    await chat.users.create("news", PASSWORD)
    with caplog.at_level(logging.WARNING, logger="parley.topics"):
        await chat.topics.ensure_public("NEWS")
    async with chat.db.read() as repos:
        assert await repos.topics.by_name("news") is None
    assert [r.getMessage() for r in caplog.records] == ["a default topic is not created: a user has its name"]


async def test_two_servers_racing_a_sign_up_and_a_topic_for_one_name_never_both_win(two_nodes):
    """Two engines on one database (two write locks in SQLite's case): the claim in the database
    (db/conversations/names.py) is what keeps the namespace one."""
    first, second = two_nodes
    creator = await first.users.create("creator", PASSWORD)
    actor = Actor(creator.id or 0, creator.username)

    async def outcome(call: Awaitable[object]) -> bool:
        try:
            await call
        except ChatError as exc:
            assert exc.code == ErrorCode.CONFLICT, exc
            return False
        return True

    for name in NAMES:
        won = await asyncio.gather(
            outcome(first.users.create(name, PASSWORD)), outcome(second.topics.create(actor, name.upper()))
        )
        assert sorted(won) == [False, True], name
