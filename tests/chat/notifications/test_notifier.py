"""The notifier's decisions (PROTOCOL.md section 15) through the chat services on a migrated
database, the worker's round called directly (the service is not serving, so nothing runs it
behind the test's back, and it has no push sender: the test registers the push channel a server
has): who a message notifies, and the push rows written for them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from db.models import NotifyJob, PushOutbox
from db.notifications.push import SubscriptionRecord
from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import Target
from server.chat.notifications.push import PushChannel
from server.chat.service import Chat
from server.config import Settings
from tests.support import test_settings as settings_for

MakeUser = Callable[[str], Awaitable[Actor]]


@pytest.fixture
def chat_settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "data", push_delay=0.0, public_url="https://chat.example")


@pytest.fixture(autouse=True)
def push_channel(chat: Chat) -> None:
    chat.notifier.channels.append(PushChannel(True, "https://chat.example"))


async def subscribe(chat: Chat, user: Actor, name: str) -> str:
    record = SubscriptionRecord(name, user.id, f"https://push.example/{name}", "k", "a", datetime.now(UTC))
    async with chat.db.write() as repos:
        await repos.push.subscribe(record, name)
    return name


async def outbox(chat: Chat) -> list[PushOutbox]:
    async with chat.db.read() as repos:
        rows = (await repos.session.execute(select(PushOutbox).order_by(PushOutbox.message_id))).scalars()
        return list(rows)


async def jobs(chat: Chat) -> list[int]:
    async with chat.db.read() as repos:
        return list((await repos.session.execute(select(NotifyJob.message_id))).scalars())


async def test_a_direct_message_writes_one_job_and_one_push_per_subscription(chat: Chat, make_user: MakeUser):
    alice, bob = await make_user("alice"), await make_user("bob")
    await subscribe(chat, bob, "bob-phone")
    await subscribe(chat, bob, "bob-laptop")
    await subscribe(chat, alice, "alice-phone")

    sent = await chat.messages.send(alice, Target(user="bob"), "x" * 200)
    plain = await chat.messages.send(alice, Target(topic="lobby"), "nobody is mentioned")

    assert await jobs(chat) == [sent.id]  # the plain message wrote none
    assert await chat.notifier.round() == 1
    rows = await outbox(chat)
    assert sorted(row.subscription_id for row in rows) == ["bob-laptop", "bob-phone"]
    assert orjson.loads(rows[0].payload) == {
        "type": "message",
        "topic": "@alice",
        "id": sent.id,
        "seq": sent.seq,
        "sender": "alice",
        "title": "alice",
        "body": "x" * 120,
        "url": f"https://chat.example/#topic=%40alice&message={sent.id}",
    }
    assert await jobs(chat) == [] and plain.id != sent.id


async def test_mentions_notify_the_mentioned_and_all_every_member_but_the_sender(
    chat: Chat, make_user: MakeUser
):
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    for user in (alice, bob, carol):
        await subscribe(chat, user, user.username)

    named = await chat.messages.send(alice, Target(topic="lobby"), "hey @bob")
    everyone = await chat.messages.send(bob, Target(topic="lobby"), "@all lunch")
    assert await chat.notifier.round() == 2

    pushed = [(row.message_id, row.subscription_id) for row in await outbox(chat)]
    assert sorted(pushed) == sorted([(named.id, "bob"), (everyone.id, "alice"), (everyone.id, "carol")])
    payload = orjson.loads(next(r.payload for r in await outbox(chat) if r.message_id == named.id))
    assert payload["topic"] == "lobby" and payload["title"] == "alice in #lobby"


async def test_a_message_read_or_deleted_before_its_decision_is_not_pushed(chat: Chat, make_user: MakeUser):
    """Within ``push_delay`` (here: before the round the test runs) bob read one message and alice
    deleted another: only the third, still unread, is pushed."""
    alice, bob = await make_user("alice"), await make_user("bob")
    await subscribe(chat, bob, "bob-phone")
    read = await chat.messages.send(alice, Target(user="bob"), "read me")
    deleted = await chat.messages.send(alice, Target(user="bob"), "oops")
    control = await chat.messages.send(alice, Target(user="bob"), "control")

    await chat.signals.read(bob, Target(user="alice"), read.seq)
    await chat.messages.delete(alice, deleted.id)
    await chat.notifier.round()

    assert [row.message_id for row in await outbox(chat)] == [control.id]
    assert await jobs(chat) == []
