"""The one registry without a transport: indexes by key, user, topic and recovery pid; the
per-user count over every transport."""

from __future__ import annotations

from server.chat.kernel import events as ev
from server.edge.realtime.connection import Connection, State
from server.edge.realtime.registry import Registry
from tests.edge.realtime.runtime import ALICE, BOB, LOBBY, NEWS, Recorder, created

ROOMS = Recorder(rooms=True)  # a transport with rooms (Socket.IO)
QUEUES = Recorder()  # a transport written connection by connection (the gateways)


def test_every_transport_counts_for_the_user() -> None:
    registry = Registry()
    sio = Connection("sid1", ALICE, ROOMS, follows=[LOBBY])
    ws = Connection("ws-1", ALICE, QUEUES, follows=[LOBBY])
    bob = Connection("sid2", BOB, ROOMS)
    for c in (sio, ws, bob):
        registry.add(c)
    assert registry.count(ALICE.id) == 2 and registry.count(BOB.id) == 1 and len(registry) == 3
    assert set(registry.of_user(ALICE.id)) == {sio, ws}
    assert registry.remove(sio) and not registry.remove(sio), "removed once"
    assert registry.count(ALICE.id) == 1 and registry.get("sid1") is None
    assert registry.count(3) == 0


def test_a_connection_is_catching_up_from_registration_until_released() -> None:
    registry = Registry()
    c = Connection("ws-1", ALICE, QUEUES, follows=[LOBBY])
    registry.add(c)
    assert list(registry.catching_up()) == [c]
    c.hold(created(1))
    assert registry.release(c) == [created(1)]
    assert list(registry.catching_up()) == [c], "still catching up: something was held"
    assert registry.release(c) == []
    assert c.state is State.LIVE and list(registry.catching_up()) == []


def test_recovery_connections_are_addressed_one_by_one() -> None:
    registry = Registry()
    first = Connection("sid1", ALICE, ROOMS, follows=[LOBBY], pid="p1")
    second = Connection("sid2", ALICE, ROOMS, follows=[LOBBY], pid="p1")
    plain = Connection("sid3", ALICE, ROOMS, follows=[LOBBY])
    for c in (first, second, plain):
        registry.add(c)
    assert set(registry.reach(ev.ToTopic(LOBBY))) == {first, second}, "a room emit reaches the plain one"
    registry.remove(first)
    assert registry.reach(ev.ToTopic(LOBBY)) == [second]
    registry.remove(second)
    assert registry.reach(ev.ToTopic(LOBBY)) == []


def test_reach_finds_the_connections_addressed_one_by_one() -> None:
    registry = Registry()
    alice = Connection("ws-1", ALICE, QUEUES, follows=[LOBBY])
    bob = Connection("ws-2", BOB, QUEUES, follows=[LOBBY, NEWS])
    in_rooms = Connection("sid1", BOB, ROOMS, follows=[LOBBY])
    for c in (alice, bob, in_rooms):
        registry.add(c)
    assert set(registry.reach(ev.ToTopic(LOBBY))) == {alice, bob}
    assert registry.reach(ev.ToTopic(LOBBY, exclude_user=ALICE.id)) == [bob]
    assert registry.reach(ev.ToTopic(NEWS)) == [bob]
    assert registry.reach(ev.ToUser(BOB.id)) == [bob]
    assert set(registry.reach(ev.ToUsers((ALICE.id, BOB.id)))) == {alice, bob}
    assert registry.reach(ev.ToEveryone(exclude_user=BOB.id)) == [alice]


def test_a_topic_audience_may_leave_out_users_that_get_their_own_rendering() -> None:
    """Section 8's ``me``: the reactors of a message get a rendering of their own, the rest of the
    topic the common one; a connection catching up holds exactly the one meant for it."""
    registry = Registry()
    alice = Connection("ws-1", ALICE, QUEUES, follows=[LOBBY])
    bob = Connection("ws-2", BOB, QUEUES, follows=[LOBBY])
    for c in (alice, bob):
        registry.add(c)
    common, own = ev.ToTopic(LOBBY, exclude_users=(BOB.id,)), ev.ToUsers((BOB.id,))
    assert registry.reach(common) == [alice] and registry.reach(own) == [bob]
    assert alice.reaches(common) and not alice.reaches(own)
    assert bob.reaches(own) and not bob.reaches(common)


def test_follow_and_unfollow_move_the_topic_index() -> None:
    registry = Registry()
    c = Connection("ws-1", ALICE, QUEUES, follows=[LOBBY])
    registry.add(c)
    registry.follow(c, NEWS)
    assert registry.reach(ev.ToTopic(NEWS)) == [c] and NEWS in c.follows
    registry.unfollow(c, LOBBY)
    assert registry.reach(ev.ToTopic(LOBBY)) == [] and LOBBY not in c.follows
    registry.remove(c)
    assert registry.reach(ev.ToTopic(NEWS)) == []
