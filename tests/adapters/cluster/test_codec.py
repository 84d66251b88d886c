"""Events cross nodes as JSON and come back equal; nothing else can be read back."""

from __future__ import annotations

import pytest

from server.adapters.cluster import codec
from server.chat.kernel import events as ev
from server.chat.kernel.schemas import MessageOut, QuoteOut, ReactionOut, ThreadSummaryOut, TopicOut

MESSAGE = MessageOut(
    id=7,
    topic="@bob",
    kind="direct",
    seq=3,
    sender="alice",
    body="h\u00e9llo \U0001f600",
    created_at="2026-11-22T10:00:00.000001Z",
    edited_at=None,
    client_id="c-1",
)
REPLY = MESSAGE.model_copy(
    update={
        "reply_to": QuoteOut(id=5, sender="bob", excerpt="the quote"),
        "thread": 5,
        "reactions": [ReactionOut(emoji="👍", count=2, users=["bob", "carol"], me=True)],
        "mentions": ["bob"],
        "mentions_all": True,
    }
)
SYSTEM = MESSAGE.model_copy(update={"type": "system", "system": {"action": "pin", "actor": "alice", "id": 5}})
SUMMARY = ThreadSummaryOut(count=3, last_at="2026-11-22T10:00:00Z", participants=["carol", "bob"])
TOPIC = TopicOut(
    name="secret",
    kind="private",
    owner="alice",
    created_at="2026-11-22T10:00:00Z",
    members=2,
    online=1,
    subscribed=True,
    last_seq=9,
    unread=0,
)
EVENTS = [
    ev.MessageCreated(MESSAGE, ev.ToUser(2), 11),
    ev.MessageCreated(MESSAGE, ev.ToTopic(4, exclude_user=None), 4),
    ev.MessageEdited(MESSAGE, ev.ToTopic(4, exclude_user=1), 4),
    ev.MessageDeleted(7, "general", ev.ToTopic(4), 4),
    ev.MessageDeleted(7, "@alice", ev.ToUser(2), 11, MESSAGE),  # a direct one carries the message
    ev.TopicInvited(TOPIC, "alice", ev.ToUser(2)),
    ev.Typing("general", "alice", True, ev.ToTopic(4, exclude_user=1), 4),
    ev.RoomEntered("general", "alice", True, ev.ToTopic(4, exclude_user=1)),
    ev.ReadMarked("@bob", "alice", 3, ev.ToUsers((1, 2))),
    ev.PresenceChanged("alice", False, "2026-11-22T10:00:00Z", ev.ToUsers((2, 3, 5))),
    ev.MembershipChanged(2, 4, joined=True),
    ev.SessionsRevoked(2),
    ev.MessageCreated(REPLY, ev.ToTopic(4), 4),
    ev.MessageCreated(SYSTEM, ev.ToTopic(4), 4),
    ev.ReactionsChanged(
        "general",
        7,
        (ReactionOut(emoji="👍", count=1, users=["bob"], me=False),),
        ev.ToTopic(4, exclude_users=(2, 3)),
        4,
    ),
    ev.ReactionsChanged("general", 7, (), ev.ToUsers((2, 3)), 4),
    ev.ThreadChanged("general", 5, SUMMARY, ev.ToTopic(4), 4),
    ev.ThreadChanged("@bob", 5, None, ev.ToUser(2), 11),
    ev.PinsChanged("general", (REPLY, SYSTEM), ev.ToTopic(4), 4),
]


def test_every_event_class_that_crosses_nodes_is_registered_and_no_other():
    for event_class in ev.Event.__args__:  # type: ignore[attr-defined]
        here_only = event_class in (ev.NewsMissed, ev.MembershipsKnown)  # told to one node's sinks
        assert (event_class.__name__ in codec.DATACLASSES) is not here_only


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: type(event).__name__)
def test_every_event_survives_the_trip(event):
    node, events = codec.loads(codec.dumps("node-a", (event,)))
    assert (node, events) == ("node-a", [event])


def test_a_commit_s_events_travel_together_in_order():
    assert codec.loads(codec.dumps("n", tuple(EVENTS)))[1] == EVENTS


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b'{"events": []}', id="no-node"),
        pytest.param(b'{"node": "n", "events": [{"$": "os.system", "command": "true"}]}', id="foreign-type"),
        pytest.param(b'{"node": "n", "events": [{"$": "SessionsRevoked", "user": 1}]}', id="wrong-fields"),
        pytest.param(b'{"node": "n", "events": [{"$": "MessageOut", "id": "x"}]}', id="invalid-model"),
        pytest.param(b'{"node": "n", "events": 5}', id="events-not-a-list"),
    ],
)
def test_anything_else_on_the_channel_is_unreadable(data):
    with pytest.raises(codec.UnknownEvent):
        codec.loads(data)
