"""The bot service as other services use it (PROTOCOL.md section 12): ``create_bot``, ``actor``
and ``post`` (a send as the bot, optionally in a thread), over a real SQLite file."""

from __future__ import annotations

import pytest

from server.chat.kernel.errors import ChatError
from server.chat.kernel.schemas import Target


async def test_a_bot_posts_through_the_send_path_marked_bot_and_idempotent(chat, make_user, sink):
    alice = await make_user("alice")
    topic = await chat.topics.create(alice, "general", False)
    bot_record = await chat.bots.create_bot(alice, "helper")
    bot = await chat.bots.actor(bot_record.id)
    assert bot is not None and bot.bot and bot.username == "helper"
    await chat.topics.subscribe(bot, "general")
    topic_id = (await chat.directory.topic("general")).topic_id

    first = await chat.bots.post(bot, topic_id, "hello @alice", client_id="k1")
    again = await chat.bots.post(bot, topic_id, "hello @alice", client_id="k1")

    assert (first.sender, first.bot, first.mentions) == ("helper", True, ["alice"])
    assert again == first and topic.name == "general"
    mine = await chat.messages.send(alice, Target(topic="general"), "hi")
    assert mine.bot is False


async def test_a_bot_replies_in_the_thread_of_any_of_its_messages(chat, make_user):
    alice = await make_user("alice")
    await chat.topics.create(alice, "general", False)
    bot = await chat.bots.actor((await chat.bots.create_bot(alice, "helper")).id)
    await chat.topics.subscribe(bot, "general")
    topic_id = (await chat.directory.topic("general")).topic_id
    root = await chat.messages.send(alice, Target(topic="general"), "deploy?")
    reply = await chat.messages.send(alice, Target(topic="general"), "please", thread=root.id)

    answer = await chat.bots.post(bot, topic_id, "done", thread=reply.id)

    assert answer.thread == root.id and answer.bot is True


@pytest.mark.parametrize(
    ("text", "thread", "client_id"),
    [(" ", None, None), ("x" * 4001, None, None), ("ok", 999_999, None), ("ok", None, "x" * 65)],
)
async def test_bad_posts_are_invalid_and_store_nothing(chat, make_user, text, thread, client_id):
    alice = await make_user("alice")
    await chat.topics.create(alice, "general", False)
    bot = await chat.bots.actor((await chat.bots.create_bot(alice, "helper")).id)
    await chat.topics.subscribe(bot, "general")
    topic_id = (await chat.directory.topic("general")).topic_id

    with pytest.raises(ChatError) as refused:
        await chat.bots.post(bot, topic_id, text, thread=thread, client_id=client_id)

    assert refused.value.code == "invalid"
    assert (await chat.messages.history(alice, Target(topic="general"), None, 10)).messages == []


async def test_a_bot_cannot_own_a_bot_and_a_disabled_bot_has_no_actor(chat, make_user):
    alice = await make_user("alice")
    bot_record = await chat.bots.create_bot(alice, "helper")
    bot = await chat.bots.actor(bot_record.id)

    with pytest.raises(ChatError) as refused:
        await chat.bots.create_bot(bot, "grandchild")
    assert refused.value.code == "forbidden"
    await chat.bots.disable(alice, "helper")
    assert await chat.bots.actor(bot_record.id) is None
    assert await chat.bots.actor(alice.id) is None  # a user is no bot
