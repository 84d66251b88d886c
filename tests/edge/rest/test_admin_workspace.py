"""The workspace's administration routes for its owners and admins (PROTOCOL.md section 19): the
public topics and their owners, the reports, the audit log and erasure, refused to members."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.contract import assert_error
from tests.support import Client, LiveServer, bearer, running, send
from tests.support import test_settings as make_settings


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(make_settings(tmp_path / "data")) as live:
        yield live


async def people(server: LiveServer) -> tuple[str, str, Client, Client]:
    """The owner's token (the first account), a member's token, and both connected."""
    owner_token, member_token = await server.register("olive"), await server.register("mabel")
    return (
        owner_token,
        member_token,
        await server.connect("olive", owner_token),
        await server.connect("mabel", member_token),
    )


async def test_a_member_is_refused_every_administration_route(server):
    _owner, member_token, _olive, _mabel = await people(server)
    member = bearer(member_token)
    for method, path in [
        ("GET", "/api/admin/topics"),
        ("PUT", "/api/admin/topics/lobby/owner"),
        ("GET", "/api/admin/reports"),
        ("DELETE", "/api/admin/messages/1"),
        ("GET", "/api/admin/audit"),
        ("DELETE", "/api/admin/users/olive"),
    ]:
        body = {"username": "mabel"} if method == "PUT" else None
        refused = await server.http.request(method, path, headers=member, json=body)
        assert_error(refused, 403, "forbidden")
    async with server.chat.db.read() as repos:
        olive = await repos.users.by_name("olive")
    assert olive is not None and olive.disabled_at is None  # nothing changed


async def test_the_owner_lists_the_public_topics_and_not_a_private_one_they_are_not_in(server):
    owner_token, _member, _olive, mabel = await people(server)
    await mabel.ok("topic:create", {"name": "plans"})
    await mabel.ok("topic:create", {"name": "secret", "private": True})

    listed = await server.http.get("/api/admin/topics", headers=bearer(owner_token))
    assert listed.status_code == 200
    rows = {row["name"]: row for row in listed.json()["topics"]}
    assert set(rows) == {"lobby", "plans"}
    assert rows["plans"]["owner"] == "mabel" and rows["plans"]["archived"] is False
    assert rows["lobby"]["owner"] is None  # the workspace's own


async def test_the_owner_gives_a_public_topic_to_someone_else_and_its_owner_stays_an_admin(server):
    owner_token, _member, _olive, mabel = await people(server)
    await server.register("nora")
    await mabel.ok("topic:create", {"name": "plans"})

    given = await server.http.put(
        "/api/admin/topics/plans/owner", headers=bearer(owner_token), json={"username": "nora"}
    )
    assert given.status_code == 200, given.text
    assert given.json()["owner"] == "nora"
    members = await server.http.get("/api/topics/plans/members", headers=bearer(owner_token))
    roles = {row["username"]: row["role"] for row in members.json()["members"]}
    assert roles["nora"] == "owner" and roles["mabel"] == "admin"
    audit = await server.http.get("/api/admin/audit?action=topic.transfer", headers=bearer(owner_token))
    [row] = audit.json()["entries"]
    assert (row["actor"], row["target"], row["topic"]) == ("olive", "nora", "plans")


async def test_a_private_topic_is_not_found_and_a_default_topic_has_no_owner_to_give(server):
    owner_token, _member, _olive, mabel = await people(server)
    await mabel.ok("topic:create", {"name": "secret", "private": True})
    owner = bearer(owner_token)
    olive = {"username": "olive"}
    hidden = await server.http.put("/api/admin/topics/secret/owner", headers=owner, json=olive)
    assert_error(hidden, 404, "not_found")
    default = await server.http.put("/api/admin/topics/lobby/owner", headers=owner, json=olive)
    assert_error(default, 403, "forbidden")
    bad = await server.http.put("/api/admin/topics/lobby/owner", headers=owner, json={"username": "x"})
    assert_error(bad, 422, "invalid")


async def test_the_owner_reads_the_reports_and_removes_a_reported_message(server):
    owner_token, _member, olive, mabel = await people(server)
    sent = await send(mabel, {"topic": "lobby", "body": "rude"})
    await olive.ok("message:report", {"id": sent["id"], "reason": "rude"})

    listed = await server.http.get("/api/admin/reports", headers=bearer(owner_token))
    [report] = listed.json()["reports"]
    assert (report["reporter"], report["message"]["id"]) == ("olive", sent["id"])
    removed = await server.http.delete(f"/api/admin/messages/{sent['id']}", headers=bearer(owner_token))
    assert removed.status_code == 200 and removed.json() == {"id": sent["id"], "deleted": True}
    async with server.chat.db.read() as repos:
        message = await repos.messages.by_id(sent["id"])
    assert message is not None and message.deleted_at is not None


async def test_erasure_by_the_owner_and_the_limits_on_it(server):
    owner_token, member_token, _olive, _mabel = await people(server)
    refused_self = await server.http.delete("/api/admin/users/olive", headers=bearer(owner_token))
    assert_error(refused_self, 403, "forbidden")
    erased = await server.http.delete("/api/admin/users/mabel", headers=bearer(owner_token))
    assert erased.status_code == 200, erased.text
    assert erased.json()["state"] in ("erasing", "erased")
    gone = await server.http.get("/api/users/me", headers=bearer(member_token))
    assert gone.status_code == 401
