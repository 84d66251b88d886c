"""A call's start notifies (PROTOCOL.md sections 18 and 15): its system message is pushed to every
member but the caller, as ``@all`` is, under the same rules (do-not-disturb holds); its end, the
same message rewritten, notifies nobody again. The notifier's round is called directly, with the
push channel a server has (as tests/chat/notifications/test_notifier.py does)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from server.chat.kernel.schemas import Target
from server.chat.notifications.push import PushChannel
from server.chat.service import Chat
from server.config import Settings
from tests.chat.notifications.test_notifier import outbox, subscribe
from tests.support import test_settings as settings_for


@pytest.fixture
def chat_settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "data", push_delay=0.0, public_url="https://chat.example")


@pytest.fixture(autouse=True)
def push_channel(chat: Chat) -> None:
    chat.notifier.channels.append(PushChannel(True, "https://chat.example"))


async def test_a_calls_start_is_pushed_to_the_members_but_the_caller_and_do_not_disturb_holds(
    chat, make_user
):
    alice, bob, carol = [await make_user(name) for name in ("alice", "bob", "carol")]
    await chat.topics.create(alice, "den", True)
    for user in (bob, carol):
        await chat.topics.invite(alice, "den", user.username)
    for user in (alice, bob, carol):
        await subscribe(chat, user, user.username)
    await chat.people.set_availability(carol, "dnd")

    started = await chat.calls.start_call(alice, "sid-alice", Target(topic="den"), "video")
    assert await chat.notifier.round() == 1
    await chat.calls.leave(alice, "sid-alice", started["call"]["id"])
    await chat.notifier.round()

    rows = await outbox(chat)
    assert [row.subscription_id for row in rows] == ["bob"]
    payload = orjson.loads(rows[0].payload)
    assert payload["body"] == "alice started a video call" and payload["topic"] == "den"
