"""The server API's live side in the domain (PROTOCOL.md section 17), one process over a real
SQLite file: presence for a topic and a user, and the rules of an ``app:`` emit, which change
nothing and reach nobody when refused. Sockets and two nodes: ``tests/edge/sio/test_app_events.py``
and ``tests/scaleout/test_server_live_nodes.py``."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from server.chat.backends.live_schemas import EmitIn, EmittedOut, TopicPresenceOut, UserPresenceOut
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.events import AppEvent
from server.chat.kernel.gather import Answer
from server.chat.kernel.schemas import Target


def emitted(chat: Any) -> list[AppEvent]:
    """Record the ``app:`` events this node is asked to write (as the edge would answer)."""
    heard: list[AppEvent] = []

    async def answer(event: AppEvent) -> Answer:
        heard.append(event)
        return {"sockets": 0}

    chat.gather.answer(AppEvent, answer)
    return heard


async def test_a_topics_presence_names_its_online_members_only(chat, make_user):
    alice, bob, carol = await make_user("alice"), await make_user("Bob"), await make_user("carol")
    await chat.topics.create(alice, "den", private=True)
    await chat.topics.invite(alice, "den", "Bob")
    await chat.topics.invite(alice, "den", "carol")
    await chat.presence.socket_opened(bob.id, bob.username)
    await chat.presence.socket_opened(alice.id, alice.username)
    stranger = await make_user("dave")
    await chat.presence.socket_opened(stranger.id, stranger.username)

    assert await chat.server_presence.topic("DEN") == TopicPresenceOut(online=["alice", "Bob"], count=2)
    assert carol.id not in await chat.presence.online_among([carol.id])


async def test_a_users_presence_counts_their_sockets(chat, make_user):
    alice = await make_user("alice")
    assert await chat.server_presence.user("alice") == UserPresenceOut(
        online=False, sockets=0, availability="offline", last_seen=None
    )

    await chat.presence.socket_opened(alice.id, alice.username)
    await chat.presence.socket_opened(alice.id, alice.username)

    assert await chat.server_presence.user("ALICE") == UserPresenceOut(
        online=True, sockets=2, availability="online", last_seen=None
    )


async def test_presence_of_what_does_not_exist_is_not_found(chat, make_user):
    alice, _ = await make_user("alice"), await make_user("bob")
    await chat.messages.send(alice, Target(user="bob"), "hi")  # a direct conversation is no topic
    async with chat.db.read() as repos:
        direct = [topic.name for topic in await repos.topics.visible_to(alice.id) if topic.kind == "direct"]

    for ask in (chat.server_presence.topic("nowhere"), chat.server_presence.user("nobody")):
        with pytest.raises(ChatError) as refused:
            await ask
        assert refused.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(ChatError):
        await chat.server_presence.topic(direct[0])


@pytest.mark.parametrize(
    "fields",
    [
        {"user": "alice", "event": "ping", "data": 1},  # not an app: event
        {"user": "alice", "event": "message", "data": 1},
        {"user": "alice", "event": "app:" + "x" * 61, "data": 1},  # 65 characters
        {"user": "alice", "event": "app:\x00", "data": 1},
        {"user": "alice", "event": "", "data": 1},
        {"event": "app:x", "data": 1},  # neither topic nor user
        {"topic": "den", "user": "alice", "event": "app:x", "data": 1},  # both
        {"topic": "den", "event": "app:x", "data": 1, "ack_timeout_ms": 100},  # acks of a topic
        {"user": "alice", "event": "app:x", "ack_timeout_ms": 0},
        {"user": "alice", "event": "app:x", "ack_timeout_ms": 30001},
        {"user": "alice", "event": "app:x", "ack_timeout_ms": "100"},
    ],
)
def test_an_emit_the_rules_refuse_is_invalid(fields):
    with pytest.raises(ValidationError):
        EmitIn.model_validate(fields)


def test_the_event_name_and_the_acknowledgement_timeout_at_their_bounds_are_valid():
    EmitIn.model_validate({"user": "alice", "event": "app:" + "x" * 60, "ack_timeout_ms": 30000})
    EmitIn.model_validate({"user": "alice", "event": "app:x", "ack_timeout_ms": 1})


async def test_data_over_64_kib_is_too_large_and_reaches_nobody(chat, make_user):
    await make_user("alice")
    heard = emitted(chat)
    at_limit = "x" * (64 * 1024 - 2)  # with its quotes: 64 KiB of JSON exactly

    assert await chat.live_events.emit(EmitIn(user="alice", event="app:big", data=at_limit)) == EmittedOut(
        sockets=0
    )
    with pytest.raises(ChatError) as refused:
        await chat.live_events.emit(EmitIn(user="alice", event="app:big", data=at_limit + "x"))

    assert refused.value.code is ErrorCode.TOO_LARGE
    assert len(heard) == 1


async def test_an_emit_to_what_does_not_exist_is_not_found_and_reaches_nobody(chat, make_user):
    await make_user("alice")
    heard = emitted(chat)

    for emit in (EmitIn(user="nobody", event="app:x"), EmitIn(topic="nowhere", event="app:x")):
        with pytest.raises(ChatError) as refused:
            await chat.live_events.emit(emit)
        assert refused.value.code is ErrorCode.NOT_FOUND
    assert heard == []


async def test_emits_waiting_for_acknowledgements_are_bounded_per_node(chat, make_user):
    await make_user("alice")
    chat.live_events.max_waiting = 0

    with pytest.raises(ChatError) as refused:
        await chat.live_events.emit(EmitIn(user="alice", event="app:x", ack_timeout_ms=10))

    assert refused.value.code is ErrorCode.RATE_LIMITED
