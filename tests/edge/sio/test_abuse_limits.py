"""Abuse limits per user (PROTOCOL.md section 2, amended): topics created and invites sent per hour.

Past the limit the answer is ``rate_limited`` and nothing is stored; a refused call (a taken name, an
unknown user) costs nothing. The limits are settings; here they are small.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from db.models import Membership, Topic
from server.config import Settings
from tests.contract import error_code
from tests.support import LiveServer, bearer, count_rows
from tests.support import test_settings as settings_for


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", topics_per_hour=3, invites_per_hour=2)


def test_the_defaults_are_20_topics_and_30_invites_per_hour():
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (defaults.topics_per_hour, defaults.invites_per_hour) == (20, 30)


async def test_a_user_creates_only_so_many_topics_per_hour_on_any_path(live_server: LiveServer):
    alice_token = await live_server.register("alice")
    alice = await live_server.connect("alice", alice_token)
    token = await live_server.register("bob")
    assert error_code(await alice.call("topic:create", {"name": "lobby"})) == "conflict"  # not counted
    await alice.ok("topic:create", {"name": "one"})
    await alice.ok("create", {"topic_name": "two"})
    created = await live_server.http.post("/api/topics", json={"name": "three"}, headers=bearer(alice_token))
    assert created.status_code == 201
    before = await count_rows(live_server, Topic, Membership)

    ack = await alice.call("topic:create", {"name": "four"})
    rest = await live_server.http.post("/api/topics", json={"name": "five"}, headers=bearer(alice_token))

    assert ack["ok"] is False and ack["error"]["code"] == "rate_limited"
    assert (rest.status_code, rest.json()["error"]["code"]) == (429, "rate_limited")
    assert int(rest.headers["Retry-After"]) > 0
    assert await count_rows(live_server, Topic, Membership) == before
    # Another user has a budget of their own.
    other = await live_server.http.post("/api/topics", json={"name": "bobs"}, headers=bearer(token))
    assert other.status_code == 201


async def test_a_user_sends_only_so_many_invites_per_hour(live_server: LiveServer):
    alice = await live_server.user("alice")
    for name in ("bob", "carol", "dave"):
        await live_server.register(name)
    await alice.ok("topic:create", {"name": "den", "private": True})
    assert error_code(await alice.call("topic:invite", {"topic": "den", "username": "nobody"})) == "not_found"
    await alice.ok("topic:invite", {"topic": "den", "username": "bob"})
    await alice.ok("invite", {"topic_name": "den", "username": "carol"})
    before = await count_rows(live_server, Membership)

    ack = await alice.call("topic:invite", {"topic": "den", "username": "dave"})

    assert ack["ok"] is False and ack["error"]["code"] == "rate_limited"
    assert await count_rows(live_server, Membership) == before
    members = (await alice.ok("topic:members", {"topic": "den"}))["members"]
    assert sorted(m["username"] for m in members) == ["alice", "bob", "carol"]
