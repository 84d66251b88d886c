"""The calls service's rules (PROTOCOL.md section 18), without a server: who may start, join, see and
signal, a full call, a second start, bad signals, the system message and its duration, a kick, a
seat freed past the grace or with its node, and a direct conversation's call as each side sees it.

Sockets are named by made-up sids: the service only keeps them (a signal goes to the one named);
what a real socket shows is in tests/edge/sio/test_calls.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from db.calls.tables import CallParticipant
from db.models import Message
from db.notifications.tables import NotifyJob
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError
from server.chat.kernel.events import (
    CallEnded,
    CallJoined,
    CallLeft,
    CallSignalled,
    CallStarted,
    MessageEdited,
    ToUser,
    ToUsers,
)
from server.chat.kernel.schemas import Target
from server.chat.service import Chat
from server.config import Settings
from tests.support import count_rows
from tests.support import test_settings as settings_for

MakeUser = Callable[[str], Awaitable[Actor]]


@pytest.fixture
def chat_settings(tmp_path: Path) -> Settings:
    """Calls of three at most, so that a full one is cheap to make."""
    return settings_for(tmp_path / "data", call_max_peers=3)


@pytest.fixture
async def crew(chat: Chat, make_user: MakeUser) -> dict[str, Actor]:
    """alice made the private topic ``den`` with bob, carol and dave; eve is in neither ``den`` nor
    the public ``plaza`` alice made."""
    people = {name: await make_user(name) for name in ("alice", "bob", "carol", "dave", "eve")}
    await chat.topics.create(people["alice"], "den", True)
    await chat.topics.create(people["alice"], "plaza", False)
    for name in ("bob", "carol", "dave"):
        await chat.topics.invite(people["alice"], "den", name)
    return people


async def refused(call: Awaitable[Any]) -> ChatError:
    with pytest.raises(ChatError) as caught:
        await call
    return caught.value


async def start(chat: Chat, actor: Actor, topic: str = "den", media: str = "video") -> dict[str, Any]:
    return await chat.calls.start_call(actor, f"sid-{actor.username}", Target(topic=topic), media)


async def test_a_start_joins_the_caller_and_a_second_start_answers_the_running_call(chat, crew, sink):
    alice, bob = crew["alice"], crew["bob"]

    first = await start(chat, alice)
    second = await chat.calls.start_call(bob, "sid-bob", Target(topic="den"), "audio")

    assert first["call"]["participants"] == ["alice"] and first["peers"] == []
    assert second["call"]["id"] == first["call"]["id"] and second["call"]["media"] == "video"
    assert second["peers"] == [{"username": "alice", "peer": first["peer"]}]
    assert [event.call.participants for event in sink.of(CallStarted)] == [("alice",)]
    assert [(e.username, e.peer) for e in sink.of(CallJoined)] == [("bob", second["peer"])]


async def test_a_join_again_from_the_same_socket_changes_nothing_and_from_another_moves(chat, crew, sink):
    alice, bob = crew["alice"], crew["bob"]
    call_id = (await start(chat, alice))["call"]["id"]
    joined = await chat.calls.join(bob, "sid-bob", call_id)
    sink.clear()

    again = await chat.calls.join(bob, "sid-bob", call_id)
    assert again == joined and sink.events == []

    moved = await chat.calls.join(bob, "sid-bob-2", call_id)
    assert moved["peer"] != joined["peer"] and moved["call"]["participants"] == ["alice", "bob"]
    assert [(e.peer, e.audience) for e in sink.of(CallLeft)] == [(joined["peer"], ToUser(bob.id))]
    assert [e.peer for e in sink.of(CallJoined)] == [moved["peer"]]


async def test_strangers_may_not_start_join_see_or_signal_and_nothing_is_stored(chat, crew):
    alice, eve = crew["alice"], crew["eve"]
    started = await start(chat, alice)
    call_id = started["call"]["id"]
    before = await count_rows(chat, Message)

    private = await refused(chat.calls.start_call(eve, "sid-eve", Target(topic="den"), "audio"))
    public = await refused(chat.calls.start_call(eve, "sid-eve", Target(topic="plaza"), "audio"))
    join = await refused(chat.calls.join(eve, "sid-eve", call_id))
    signal = await refused(chat.calls.signal(eve, "sid-eve", call_id, started["peer"], {"sdp": "x"}))
    leave = await refused(chat.calls.leave(eve, "sid-eve", call_id))

    assert private.code.value == "not_found" and public.code.value == "forbidden"
    assert [e.code.value for e in (join, signal, leave)] == ["not_found"] * 3
    assert (await chat.calls.listed(eve))["calls"] == []
    assert await count_rows(chat, Message) == before
    assert (await chat.calls.listed(alice))["calls"][0]["participants"] == ["alice"]


async def test_one_more_join_than_the_limit_is_forbidden(chat, crew):
    call_id = (await start(chat, crew["alice"]))["call"]["id"]
    await chat.calls.join(crew["bob"], "sid-bob", call_id)
    await chat.calls.join(crew["carol"], "sid-carol", call_id)

    full = await refused(chat.calls.join(crew["dave"], "sid-dave", call_id))

    assert (full.code.value, full.message) == ("forbidden", "the call is full")
    assert len((await chat.calls.listed(crew["dave"]))["calls"][0]["participants"]) == 3


async def test_a_signal_goes_to_the_named_peer_alone_and_is_never_stored(chat, crew, sink):
    alice, bob, carol = crew["alice"], crew["bob"], crew["carol"]
    started = await start(chat, alice)
    call_id = started["call"]["id"]
    bob_in = await chat.calls.join(bob, "sid-bob", call_id)
    await chat.calls.join(carol, "sid-carol", call_id)
    before = await count_rows(chat, Message)

    data = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
    await chat.calls.signal(alice, "sid-alice", call_id, bob_in["peer"], data)

    signalled = sink.of(CallSignalled)
    assert [(s.sid, s.user_id, s.sender) for s in signalled] == [("sid-bob", bob.id, started["peer"])]
    assert signalled[0].data == '{"type":"offer","sdp":"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n"}'
    assert await count_rows(chat, Message) == before

    await chat.calls.leave(bob, "sid-bob", call_id)  # a peer gone is not_found at once
    gone = await refused(chat.calls.signal(alice, "sid-alice", call_id, bob_in["peer"], data))
    assert gone.code.value == "not_found" and len(sink.of(CallSignalled)) == 1


async def test_bad_signals_are_refused_with_the_codes_of_section_2(chat, crew, sink):
    alice, bob = crew["alice"], crew["bob"]
    call_id = (await start(chat, alice))["call"]["id"]
    bob_in = await chat.calls.join(bob, "sid-bob", call_id)
    sink.clear()

    too_big = await refused(chat.calls.signal(alice, "sid-alice", call_id, bob_in["peer"], "x" * 65_536))
    nobody = await refused(chat.calls.signal(alice, "sid-alice", call_id, "no-such-peer", {}))
    other_socket = await refused(chat.calls.signal(alice, "sid-elsewhere", call_id, bob_in["peer"], {}))
    no_call = await refused(chat.calls.signal(alice, "sid-alice", call_id + 1, bob_in["peer"], {}))

    assert too_big.code.value == "too_large"
    assert [e.code.value for e in (nobody, other_socket, no_call)] == ["not_found"] * 3
    assert sink.of(CallSignalled) == []


async def test_past_fifty_signals_a_second_a_socket_is_rate_limited(chat, crew, sink):
    alice, bob = crew["alice"], crew["bob"]
    call_id = (await start(chat, alice))["call"]["id"]
    peer = (await chat.calls.join(bob, "sid-bob", call_id))["peer"]

    answers = []
    for _ in range(60):
        try:
            answers.append(await chat.calls.signal(alice, "sid-alice", call_id, peer, {"candidate": "c"}))
        except ChatError as error:
            answers.append(error.code.value)

    assert 50 <= answers.count({}) < 60 and answers[-1] == "rate_limited"
    assert len(sink.of(CallSignalled)) == answers.count({})


async def test_the_system_message_records_the_call_and_then_how_long_it_lasted(chat, crew, sink):
    alice, bob = crew["alice"], crew["bob"]
    call_id = (await start(chat, alice, media="audio"))["call"]["id"]
    await chat.calls.join(bob, "sid-bob", call_id)
    async with chat.db.read() as repos:
        recorded = (await repos.calls.by_id(call_id)).message_id
        message = await repos.messages.by_id(recorded)
        jobs = await repos.session.get(NotifyJob, recorded)

    assert message.body == "alice started an audio call" and message.extras.type == "system"
    assert message.extras.system == {"action": "call", "actor": "alice", "call": call_id, "media": "audio"}
    assert jobs is not None  # it notifies the members away, as @all does (section 15)

    await chat.calls.leave(alice, "sid-alice", call_id)
    await chat.calls.leave(bob, "sid-bob", call_id)
    async with chat.db.read() as repos:
        message = await repos.messages.by_id(recorded)

    ended = sink.of(CallEnded)
    assert [(e.call_id, e.duration_s >= 0) for e in ended] == [(call_id, True)]
    assert message.extras.system["duration_s"] == ended[0].duration_s
    assert message.body == f"alice started an audio call; it lasted {ended[0].duration_s} s"
    assert {e.message.body for e in sink.of(MessageEdited)} == {message.body}
    assert (await chat.calls.listed(alice))["calls"] == []


async def test_a_member_kicked_is_removed_from_the_call_at_once(chat, crew, sink):
    alice, bob = crew["alice"], crew["bob"]
    call_id = (await start(chat, alice))["call"]["id"]
    bob_in = await chat.calls.join(bob, "sid-bob", call_id)
    sink.clear()

    await chat.moderation.kick(alice, "den", "bob", "enough")

    left = sink.of(CallLeft)
    assert {(e.username, e.peer) for e in left} == {("bob", bob_in["peer"])}
    assert ToUser(bob.id) in {e.audience for e in left}  # told on his own sockets, out of the room
    assert (await chat.calls.listed(alice))["calls"][0]["participants"] == ["alice"]


async def test_a_socket_gone_past_the_grace_and_a_dead_node_free_their_seats(chat, crew, sink):
    alice, bob, carol = crew["alice"], crew["bob"], crew["carol"]
    call_id = (await start(chat, alice))["call"]["id"]
    await chat.calls.join(bob, "sid-bob", call_id)
    await chat.calls.join(carol, "sid-carol", call_id)
    async with chat.db.write() as repos:  # carol's seat is on a node that stopped beating
        await repos.session.execute(
            update(CallParticipant).where(CallParticipant.user_id == carol.id).values(node="dead:1:x")
        )
        # bob's socket closed longer ago than the grace (its timer died with a restart)
        gone = datetime.now(UTC) - timedelta(seconds=30)
        await repos.session.execute(
            update(CallParticipant).where(CallParticipant.user_id == bob.id).values(gone_at=gone)
        )
    sink.clear()

    await chat.calls.sweep()

    assert {e.username for e in sink.of(CallLeft)} == {"bob", "carol"}
    assert (await chat.calls.listed(alice))["calls"][0]["participants"] == ["alice"]


async def test_a_direct_conversations_call_is_with_the_other_member_for_each(chat, crew, sink):
    alice, bob = crew["alice"], crew["bob"]

    started = await chat.calls.start_call(alice, "sid-alice", Target(user="bob"), "audio")
    joined = await chat.calls.join(bob, "sid-bob", started["call"]["id"])

    assert started["call"]["with"] == "bob" and "topic" not in started["call"]
    assert joined["call"]["with"] == "alice"
    heard = {event.audience: event.call.with_ for event in sink.of(CallStarted)}
    assert heard == {ToUser(alice.id): "bob", ToUser(bob.id): "alice"}
    # a direct conversation's sockets are in no room of it: its events go to each user
    assert [event.audience for event in sink.of(CallJoined)] == [ToUsers((alice.id,))]


async def test_no_call_starts_in_an_archived_topic_nor_between_users_one_of_whom_blocked_the_other(
    chat, crew
):
    alice, bob = crew["alice"], crew["bob"]
    await chat.calls.start_call(alice, "sid-alice", Target(user="bob"), "audio")  # the conversation exists
    await chat.calls.leave(alice, "sid-alice", 1)
    await chat.moderation.archive(alice, "den")
    await chat.blocks.block(bob, "alice")

    archived = await refused(start(chat, alice))
    blocked = await refused(chat.calls.start_call(alice, "sid-alice", Target(user="bob"), "audio"))

    assert archived.code.value == "forbidden" and blocked.code.value == "forbidden"
    assert (await chat.calls.listed(alice))["calls"] == []
