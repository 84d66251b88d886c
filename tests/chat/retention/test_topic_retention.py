"""A topic's own retention (PROTOCOL.md section 16): set with ``topic:update`` or the REST update by
its owner or an admin, shown on every Topic as ``retention_days``, never longer than the server's
``PARLEY_RETENTION_DAYS``; bad values and other callers are refused and change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.contract import assert_error, error_code
from tests.support import Client, LiveServer, bearer
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", retention_days=30)


async def listed(client: Client, name: str) -> dict[str, Any]:
    topics = (await client.ok("topic:list", {}))["topics"]
    found: dict[str, Any] = next(topic for topic in topics if topic["name"] == name)
    return found


async def owner_and_member(server: LiveServer) -> tuple[Client, Client]:
    alice, bob = await connected(server, "alice"), await connected(server, "bob")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    return alice, bob


TOKENS: dict[int, str] = {}


async def connected(server: LiveServer, username: str) -> Client:
    token = await server.register(username)
    client = await server.connect(username, token)
    TOKENS[id(client)] = token
    return client


async def patch(server: LiveServer, client: Client, body: dict[str, Any]) -> Any:
    """``PATCH /api/topics/general`` as ``client``'s user."""
    return await server.http.patch("/api/topics/general", json=body, headers=bearer(TOKENS[id(client)]))


async def test_the_owner_sets_a_shorter_retention_and_every_member_sees_it(live_server):
    alice, bob = await owner_and_member(live_server)
    assert (await listed(bob, "general"))["retention_days"] is None

    shown = await alice.ok("topic:update", {"topic": "general", "retention_days": 7})

    assert shown["retention_days"] == 7
    assert (await listed(bob, "general"))["retention_days"] == 7
    described = await alice.ok("topic:update", {"topic": "general", "description": "absent keeps it"})
    assert described["retention_days"] == 7
    cleared = await alice.ok("topic:update", {"topic": "general", "retention_days": None})
    assert cleared["retention_days"] is None


async def test_over_rest_an_admin_sets_it_and_null_gives_back_the_servers(live_server):
    alice, bob = await owner_and_member(live_server)
    await alice.ok("topic:role", {"topic": "general", "username": "bob", "role": "admin"})

    as_admin = await patch(live_server, bob, {"retention_days": 30})
    assert as_admin.status_code == 200, as_admin.text
    assert as_admin.json()["retention_days"] == 30
    kept = await patch(live_server, bob, {"description": "absent keeps it"})
    assert kept.json()["retention_days"] == 30
    cleared = await patch(live_server, bob, {"retention_days": None})
    assert cleared.json()["retention_days"] is None
    assert_error(await patch(live_server, alice, {"retention_days": 31}), 422, "invalid")


@pytest.mark.parametrize("days", [31, 0, -1, "7", True, 1.5])
async def test_a_retention_longer_than_the_servers_or_not_a_whole_number_of_days_is_invalid(
    live_server, days
):
    alice, _bob = await owner_and_member(live_server)
    await alice.ok("topic:update", {"topic": "general", "retention_days": 10})

    assert (
        error_code(await alice.call("topic:update", {"topic": "general", "retention_days": days}))
        == "invalid"
    )
    assert_error(await patch(live_server, alice, {"retention_days": days}), 422, "invalid")
    assert (await listed(alice, "general"))["retention_days"] == 10


async def test_a_member_may_not_set_it(live_server):
    alice, bob = await owner_and_member(live_server)

    assert (
        error_code(await bob.call("topic:update", {"topic": "general", "retention_days": 1})) == "forbidden"
    )
    assert_error(await patch(live_server, bob, {"retention_days": 1}), 403, "forbidden")
    assert (await listed(alice, "general"))["retention_days"] is None
