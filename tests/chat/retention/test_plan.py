"""Which messages a sweep takes (PROTOCOL.md section 16), through the services: with the server's
setting unset, only the topics with a retention of their own are swept; a direct conversation, which
has no topic settings, keeps everything; and a sweep keeps ``seq`` going."""

from __future__ import annotations

from datetime import timedelta

from server.chat.kernel.schemas import Target
from server.chat.service import Chat
from tests.contract import utc


async def test_without_the_servers_setting_only_topics_with_their_own_are_swept(chat: Chat, make_user):
    alice = await make_user("alice")
    await make_user("bob")
    await chat.topics.create(alice, "brief")
    await chat.topics.create(alice, "general")
    topic = await chat.moderation.update(alice, "brief", None, None, 3)
    assert topic.retention_days == 3
    kept = [
        await chat.messages.send(alice, Target(topic="general"), "kept"),
        await chat.messages.send(alice, Target(user="bob"), "kept too"),
    ]
    gone = await chat.messages.send(alice, Target(topic="brief"), "gone")

    swept = await chat.retention.sweep(now=utc(gone.created_at) + timedelta(days=3, seconds=1))

    assert swept.messages == 2  # "gone" and the update's system message
    async with chat.db.read() as repos:
        assert await repos.messages.by_id(gone.id) is None
        assert all([await repos.messages.by_id(message.id) for message in kept])
    later = await chat.messages.send(alice, Target(topic="brief"), "later")
    assert later.seq == gone.seq + 1
