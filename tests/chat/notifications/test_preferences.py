"""Notification preferences (PROTOCOL.md section 15) on a real server and both databases: the
defaults, a change over REST seen over Socket.IO and back, only the fields given change, and a bad
value is ``invalid`` and changes nothing.

One server per database serves the module: each test has a user of its own (``alice7``)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.edge.rest.test_topics_rest import api_and_socket, ok, refused
from tests.support import LiveServer, running_on
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NUMBERS = itertools.count(1)

DEFAULTS = {
    "push": True,
    "email": True,
    "email_digest_minutes": 60,
    "quiet_hours": None,
    "email_address": None,
    "email_verified": False,
    "email_available": False,  # the test server has no SMTP settings
}


@pytest.fixture(scope="module", params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_server(tmp_path_factory: pytest.TempPathFactory, database: str) -> AsyncIterator[LiveServer]:
    async with running_on(settings_for(tmp_path_factory.mktemp("prefs") / "data"), database) as server:
        yield server


def named(name: str) -> str:
    """A user name of this test's own (the module's server is shared): ``alice`` -> ``alice7``."""
    return f"{name}{next(NUMBERS)}"


async def test_preferences_start_at_the_defaults_and_change_over_either_transport(live_server):
    api, socket = await api_and_socket(live_server, named("alice"))
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
    alice, _ = await api_and_socket(live_server, named("alice"))
    bob, _ = await api_and_socket(live_server, named("bob"))
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
    api, socket = await api_and_socket(live_server, named("alice"))
    await socket.ok("notifications:set", {"email_digest_minutes": 30})

    answer = await api.http.put("/api/users/me/notifications", json=change, headers=api.headers)
    refused(answer, 422, "invalid")
    error = await socket.call("notifications:set", change)

    assert error["error"]["code"] == "invalid", error
    assert await socket.ok("notifications:get", {}) == {**DEFAULTS, "email_digest_minutes": 30}
