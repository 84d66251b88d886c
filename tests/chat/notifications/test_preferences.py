"""Notification preferences (PROTOCOL.md section 15) on a real server and both databases: the
defaults, a change over REST seen over Socket.IO and back, only the fields given change, and a bad
value is ``invalid`` and changes nothing."""

from __future__ import annotations

import pytest

from tests.edge.rest.test_topics_rest import api_and_socket, ok, refused

pytestmark = pytest.mark.both_databases

DEFAULTS = {
    "push": True,
    "email": True,
    "email_digest_minutes": 60,
    "quiet_hours": None,
    "email_address": None,
    "email_verified": False,
    "email_available": False,  # the test server has no SMTP settings
}


async def test_preferences_start_at_the_defaults_and_change_over_either_transport(live_server):
    api, socket = await api_and_socket(live_server, "alice")
    assert ok(await api.get("/api/users/me/notifications")) == DEFAULTS
    assert await socket.ok("notifications:get", {}) == DEFAULTS

    changed = ok(
        await api.http.put(
            "/api/users/me/notifications",
            json={"push": False, "email_digest_minutes": 15, "quiet_hours": {"from": "22:00", "to": "07:30"}},
            headers=api.headers,
        )
    )

    expected = {**DEFAULTS, "push": False, "email_digest_minutes": 15}
    expected["quiet_hours"] = {"from": "22:00", "to": "07:30"}
    assert changed == expected
    assert await socket.ok("notifications:get", {}) == expected
    # Only what is given changes; null quiet hours removes them.
    again = await socket.ok("notifications:set", {"email": False, "quiet_hours": None})
    assert again == {**expected, "email": False, "quiet_hours": None}
    assert ok(await api.get("/api/users/me/notifications")) == again


async def test_preferences_are_each_users_own(live_server):
    alice, _ = await api_and_socket(live_server, "alice")
    bob, _ = await api_and_socket(live_server, "bob")
    await alice.http.put("/api/users/me/notifications", json={"push": False}, headers=alice.headers)
    assert ok(await bob.get("/api/users/me/notifications")) == DEFAULTS


@pytest.mark.parametrize(
    "change",
    [
        {"email_digest_minutes": 14},
        {"email_digest_minutes": 1441},
        {"email_digest_minutes": "60"},
        {"push": "yes"},
        {"quiet_hours": {"from": "24:00", "to": "07:00"}},
        {"quiet_hours": {"from": "7:00", "to": "08:00"}},
        {"quiet_hours": {"from": "22:00"}},
        {"quiet_hours": "22:00-07:00"},
    ],
)
async def test_a_bad_preference_is_invalid_and_changes_nothing(live_server, change):
    api, socket = await api_and_socket(live_server, "alice")
    await socket.ok("notifications:set", {"email_digest_minutes": 30})

    answer = await api.http.put("/api/users/me/notifications", json=change, headers=api.headers)
    refused(answer, 422, "invalid")
    error = await socket.call("notifications:set", change)

    assert error["error"]["code"] == "invalid", error
    assert await socket.ok("notifications:get", {}) == {**DEFAULTS, "email_digest_minutes": 30}
