"""The hub's routing: every event class has its place, decided in one table (``routes.RULES``)."""

from __future__ import annotations

import time
import typing

import pytest

from server.adapters.cluster import codec
from server.adapters.cluster.routes import EVERYONE, FEW, HERE, RULES, route
from server.adapters.cluster.subscriptions import Subscriptions
from server.chat.kernel import events as ev


def test_every_event_class_has_a_route():
    classes = set(typing.get_args(ev.Event))
    assert classes - set(RULES) == set(), "give each new event its place in routes.RULES"
    assert set(RULES) - classes == set()
    assert {cls for cls, rule in RULES.items() if rule is HERE} == set(codec.HERE_ONLY)


def test_a_topics_news_goes_on_its_channel_a_users_on_theirs_and_cache_news_everywhere():
    assert route(ev.Typing("general", "alice", True, ev.ToTopic(7))) == ("t:7",)
    assert route(ev.TopicRemoved("general", None, ev.ToUser(3))) == ("u:3",)
    assert route(ev.PresenceChanged("alice", True, None, ev.ToUsers((1, 2, 2)))) == ("u:1", "u:2")
    crowd = ev.ToUsers(tuple(range(FEW + 1)))
    assert route(ev.PresenceChanged("alice", True, None, crowd)) == (EVERYONE,)
    assert route(ev.EmojiChanged((), ev.ToEveryone())) == (EVERYONE,)
    assert route(ev.CallSignalled(1, "peer", "{}", "sid", 9)) == ("u:9",)
    assert route(ev.MembershipChanged(3, 7, True)) == (EVERYONE,)
    assert route(ev.TokenRevoked(3, "tok")) == (EVERYONE,)
    assert route(ev.TopicRenamed(7, "a", "b", ev.ToTopic(7))) == (EVERYONE,)  # name caches too
    assert route(ev.NewsMissed()) == ()


def test_a_channel_is_asked_once_confirmed_and_let_go_only_after_its_linger():
    subscriptions = Subscriptions(linger=0.0)
    assert subscriptions.want(["t:1", "u:2"]) == ["t:1", "u:2"]
    assert subscriptions.want(["t:1"]) == []  # a second socket: nothing to subscribe
    assert sorted(subscriptions.to_ask()) == ["t:1", "u:2"]
    assert subscriptions.to_ask() == []
    assert subscriptions.confirm("t:1") is True
    subscriptions.drop(["t:1"])
    assert subscriptions.idle() == []  # one socket still wants it
    subscriptions.drop(["t:1"])
    time.sleep(0.001)
    assert subscriptions.idle() == ["t:1"]
    assert "t:1" not in subscriptions.confirmed
    subscriptions.lost()
    assert subscriptions.to_ask() == ["u:2"]  # a new connection asks for all that is wanted


@pytest.mark.asyncio
async def test_ready_waits_for_every_wanted_channel_and_no_longer_than_its_bound():
    subscriptions = Subscriptions()
    subscriptions.want(["t:1"])
    started = time.monotonic()
    await subscriptions.ready(0.05)  # never confirmed: bounded
    assert time.monotonic() - started < 1.0
    subscriptions.confirm("t:1")
    await subscriptions.ready(30.0)  # returns at once
