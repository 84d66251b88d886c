"""The one hub sink without sockets: feed it events, read what it asks each writer to do.

Hold while catching up and release after, the duplicate drop, the slow-consumer cut, a
logout closing the user's connections of every transport, a membership move, a recovery
connection treated apart by a writer with rooms, and one render per writer."""

from __future__ import annotations

from server.chat.kernel import events as ev
from server.edge.realtime.connection import REVOKED, SLOW_CONSUMER, Connection, State
from server.edge.realtime.registry import Registry
from server.edge.realtime.sink import HubSink
from tests.edge.realtime.runtime import ALICE, BOB, LOBBY, NEWS, Recorder, created, message, typing


def runtime() -> tuple[Registry, HubSink, Recorder, Recorder]:
    rooms, queues = Recorder(rooms=True), Recorder()
    registry = Registry()
    return registry, HubSink(registry, [rooms, queues]), rooms, queues


async def test_a_catching_up_connection_holds_live_events_then_gets_them_once_after_its_welcome() -> None:
    registry, sink, _rooms, queues = runtime()
    c = Connection("ws-1", ALICE, queues, follows=[LOBBY])
    registry.add(c)
    for seq in (1, 2, 3):
        await sink.deliver(created(seq))
    assert queues.to("ws-1") == [], "held while catching up"
    welcomed = [m.seq for m in c.welcome([message(1), message(2)])]  # the backlog, written
    assert welcomed == [1, 2]
    while c.catching_up:
        for event in registry.release(c):
            await queues.write(c, event)
    assert queues.to("ws-1") == [created(3)], "1 and 2 were in the backlog: not again"
    await sink.deliver(created(4))
    assert queues.to("ws-1") == [created(3), created(4)], "live now"


async def test_a_writer_with_rooms_skips_the_held_connections_and_gets_the_recovery_ones_apart() -> None:
    registry, sink, rooms, _queues = runtime()
    welcoming = Connection("sid1", ALICE, rooms, follows=[LOBBY])
    recovering = Connection("sid2", ALICE, rooms, follows=[LOBBY], pid="p1")
    plain = Connection("sid3", BOB, rooms, follows=[LOBBY])
    for c in (welcoming, recovering, plain):
        registry.add(c)
    for c in (recovering, plain):
        registry.release(c)  # welcomed: live
    event = created(1)
    await sink.deliver(event)
    assert rooms.audiences == [(event, ["sid2"], ["sid1"])], "the room emit skips sid1 and reaches sid3"
    assert welcoming.held == 1


async def test_a_connection_too_far_behind_is_cut_after_the_event_is_written_to_the_others() -> None:
    registry, sink, _rooms, queues = runtime()
    slow = Connection("ws-1", ALICE, queues, follows=[LOBBY], max_held=2)
    live = Connection("ws-2", BOB, queues, follows=[LOBBY])
    registry.add(slow)
    registry.add(live)
    registry.release(live)
    for seq in (1, 2, 3):
        await sink.deliver(created(seq))
    assert queues.closed == [("ws-1", SLOW_CONSUMER)]
    assert slow.state is State.CLOSING
    assert queues.to("ws-2") == [created(1), created(2), created(3)]
    await sink.deliver(created(4))
    assert queues.closed == [("ws-1", SLOW_CONSUMER)], "cut once"


async def test_a_logout_closes_every_connection_of_the_user_on_every_transport() -> None:
    registry, sink, rooms, queues = runtime()
    for c in (
        Connection("sid1", ALICE, rooms),
        Connection("ws-1", ALICE, queues),
        Connection("sid2", BOB, rooms),
    ):
        registry.add(c)
    await sink.deliver(ev.SessionsRevoked(ALICE.id))
    assert rooms.closed == [("sid1", REVOKED)] and queues.closed == [("ws-1", REVOKED)]
    await sink.deliver(ev.SessionsRevoked(ALICE.id))
    assert len(rooms.closed) == 1 and len(queues.closed) == 1, "closing already: closed once"


async def test_a_membership_change_moves_the_users_connections_that_follow_memberships() -> None:
    registry, sink, rooms, queues = runtime()
    tracking = Connection("ws-1", ALICE, queues, follows=[LOBBY])
    fixed = Connection("ws-2", ALICE, queues, follows=[LOBBY], follows_memberships=False)
    in_rooms = Connection("sid1", ALICE, rooms, follows=[LOBBY])
    for c in (tracking, fixed, in_rooms):
        registry.add(c)
        registry.release(c)
    await sink.deliver(ev.MembershipChanged(ALICE.id, NEWS, joined=True))
    await sink.deliver(ev.MembershipChanged(ALICE.id, LOBBY, joined=False))
    assert queues.moves == [("ws-1", NEWS, True), ("ws-1", LOBBY, False)]
    assert rooms.moves == [("sid1", NEWS, True), ("sid1", LOBBY, False)]
    assert fixed.follows == {LOBBY} and tracking.follows == {NEWS} == in_rooms.follows
    await sink.deliver(created(1, NEWS, "news"))
    await sink.deliver(created(2))
    assert queues.to("ws-1") == [created(1, NEWS, "news")]
    assert queues.to("ws-2") == [created(2)]


async def test_an_excluded_user_and_other_topics_get_nothing() -> None:
    registry, sink, _rooms, queues = runtime()
    alice = Connection("ws-1", ALICE, queues, follows=[LOBBY])
    bob = Connection("ws-2", BOB, queues, follows=[LOBBY])
    for c in (alice, bob):
        registry.add(c)
        registry.release(c)
    await sink.deliver(typing(BOB))  # to the topic, but its typist
    await sink.deliver(created(1, NEWS, "news"))
    assert queues.to("ws-1") == [typing(BOB)] and queues.to("ws-2") == []


async def test_an_event_without_audience_reaches_no_writer() -> None:
    registry, sink, rooms, queues = runtime()
    registry.add(Connection("ws-1", ALICE, queues))
    await sink.deliver(ev.UserDeleted(BOB.id, "bob"))
    assert rooms.audiences == [] and queues.audiences == []


async def test_the_per_user_limit_counts_every_transport() -> None:
    """The count a limit per user reads: every connection of the user, whatever its transport."""
    registry, _sink, rooms, queues = runtime()
    limit = 3
    opened = []
    for key, writer in (("sid1", rooms), ("ws-1", queues), ("sid2", rooms), ("ws-2", queues)):
        if registry.count(ALICE.id) >= limit:
            break
        c = Connection(key, ALICE, writer)
        registry.add(c)
        opened.append(key)
    assert opened == ["sid1", "ws-1", "sid2"] and registry.count(ALICE.id) == limit
    registry.remove(registry.of_user(ALICE.id)[0])
    assert registry.count(ALICE.id) == limit - 1
