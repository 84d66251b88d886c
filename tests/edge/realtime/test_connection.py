"""The connection state machine without a transport: catch-up hold and release, the duplicate
drop (``seq <= sent``), the slow-consumer cut and the close decisions."""

from __future__ import annotations

from server.chat.kernel import events as ev
from server.edge.realtime.connection import REVOKED, SLOW_CONSUMER, Close, Connection, State
from tests.edge.realtime.runtime import ALICE, LOBBY, NEWS, Recorder, created, message, typing


def connection(max_held: int = 100, pid: str | None = None) -> Connection:
    return Connection("a1", ALICE, Recorder(), follows=[LOBBY], pid=pid, max_held=max_held)


def test_a_connection_is_opening_until_registered_then_catches_up_until_released() -> None:
    c = connection()
    assert c.state is State.OPENING
    assert c.hold(created(1)) is None and c.held == 0, "nothing is held before registration"
    c.opened()
    assert c.state is State.CATCHING_UP
    assert c.release() == [] and c.state is State.LIVE, "nothing held: live at once"


def test_a_connection_that_needs_no_catch_up_is_live_at_once() -> None:
    c = connection()
    c.opened(catch_up=False)
    assert c.state is State.LIVE
    assert c.hold(created(1)) is None and c.held == 0


def test_held_events_are_released_in_arrival_order() -> None:
    c = connection()
    c.opened()
    events: list[ev.Event] = [created(1), typing(), created(2), created(1, NEWS, "news")]
    for event in events:
        assert c.hold(event) is None
    assert c.held == 4
    assert c.release() == events
    assert c.state is State.CATCHING_UP, "live only once a release finds nothing held"
    assert c.release() == [] and c.state is State.LIVE


def test_events_held_during_a_release_come_in_the_next() -> None:
    c = connection()
    c.opened()
    c.hold(created(1))
    assert c.release() == [created(1)]
    c.hold(created(2))  # arrived while the first batch was being written
    assert c.release() == [created(2)]
    assert c.release() == [] and c.state is State.LIVE


def test_a_held_message_the_welcome_already_sent_is_dropped() -> None:
    c = connection()
    c.opened()
    for seq in (3, 4, 5):
        c.hold(created(seq))
    c.hold(created(1, NEWS, "news"))  # another topic: the welcome sent none of it
    c.hold(typing())
    assert [m.seq for m in c.welcome(message(seq) for seq in (1, 2, 3, 4))] == [1, 2, 3, 4]
    assert c.release() == [created(5), created(1, NEWS, "news"), typing()]


def test_only_messages_are_dropped_by_seq() -> None:
    c = connection()
    c.opened()
    edited = ev.MessageEdited(message(2), ev.ToTopic(LOBBY), LOBBY)
    c.hold(edited)
    list(c.welcome([message(5)]))
    assert c.release() == [edited], "an edit of a message the welcome sent still comes"


def test_a_connection_too_far_behind_is_cut_as_a_slow_consumer_once() -> None:
    c = connection(max_held=3)
    c.opened()
    assert [c.hold(created(seq)) for seq in (1, 2, 3)] == [None, None, None]
    assert c.hold(created(4)) == SLOW_CONSUMER
    assert c.state is State.CLOSING and c.held == 0, "what was held is dropped"
    assert c.hold(created(5)) is None, "the first decision stands: closed once"
    assert c.release() == [] and c.state is State.CLOSING


def test_the_first_close_decision_stands() -> None:
    c = connection()
    c.opened()
    assert c.close(REVOKED) == REVOKED
    assert c.close(Close(1000, "")) is None
    assert c.closing


def test_reaches_follows_the_audience() -> None:
    c = connection()
    assert c.reaches(ev.ToTopic(LOBBY))
    assert not c.reaches(ev.ToTopic(NEWS))
    assert not c.reaches(ev.ToTopic(LOBBY, exclude_user=ALICE.id))
    assert c.reaches(ev.ToUser(ALICE.id)) and not c.reaches(ev.ToUser(2))
    assert c.reaches(ev.ToUsers((2, ALICE.id))) and not c.reaches(ev.ToUsers((2,)))
    assert c.reaches(ev.ToEveryone()) and not c.reaches(ev.ToEveryone(ALICE.id))


def test_a_welcome_stopped_early_counts_only_what_it_handed_out() -> None:
    c = connection()
    c.opened()
    for seq in (2, 3):
        c.hold(created(seq))
    welcome = c.welcome(message(seq) for seq in (1, 2, 3))
    assert next(welcome).seq == 1  # then the transport stopped writing it
    assert c.release() == [created(2), created(3)]
