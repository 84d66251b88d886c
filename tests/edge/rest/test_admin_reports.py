"""The Admin UI's Reports routes (``/admin/reports``, ``/admin/api/...``): only with the Admin UI
on, only with its account (HTTP Basic), actions only when it is not read-only."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.support import running, send
from tests.support import test_settings as make_settings

ADMIN_PASSWORD = "tangerine-kettle-49"


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


ADMIN = basic("admin", ADMIN_PASSWORD)


async def test_the_reports_routes_are_absent_without_the_admin_ui(tmp_path: Path) -> None:
    async with running(make_settings(tmp_path / "data")) as server:
        assert (await server.http.get("/admin/reports")).status_code == 404
        assert (await server.http.get("/admin/api/reports", headers=ADMIN)).status_code == 404


async def test_only_the_admin_account_lists_and_read_only_refuses_the_actions(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", admin_ui=True, admin_password=ADMIN_PASSWORD)
    async with running(settings) as server:
        alice, bob = await server.user("alice"), await server.user("bobby")
        sent = await send(alice, {"topic": "lobby", "body": "rude"})
        await bob.ok("message:report", {"id": sent["id"], "reason": "rude"})

        page = await server.http.get("/admin/reports")
        assert page.status_code == 200 and 'src="parley-reports.js"' in page.text
        assert (await server.http.get("/admin/parley-reports.js")).status_code == 200
        for headers in ({}, basic("admin", "wrong-password"), {"Authorization": "Basic !!!"}, basic("x", "")):
            refused = await server.http.get("/admin/api/reports", headers=headers)
            assert refused.status_code == 401, headers
            assert refused.json()["error"]["code"] == "unauthorized"

        listed = await server.http.get("/admin/api/reports", headers=ADMIN)
        assert listed.status_code == 200
        assert listed.json()["read_only"] is True
        [report] = listed.json()["reports"]
        assert (report["reporter"], report["reason"], report["message"]["id"]) == (
            "bobby",
            "rude",
            sent["id"],
        )

        deleting = await server.http.post(f"/admin/api/messages/{sent['id']}/delete", headers=ADMIN)
        disabling = await server.http.post("/admin/api/users/alice/disable", headers=ADMIN)
        assert deleting.status_code == disabling.status_code == 403
        async with server.chat.db.read() as repos:
            message = await repos.messages.by_id(sent["id"])
            user = await repos.users.by_name("alice")
        assert message is not None and message.deleted_at is None
        assert user is not None and user.disabled_at is None


async def test_a_writable_admin_deletes_a_message_once_and_an_unknown_one_is_not_found(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path / "data", admin_ui=True, admin_password=ADMIN_PASSWORD, admin_read_only=False
    )
    async with running(settings) as server:
        alice = await server.user("alice")
        sent = await send(alice, {"topic": "lobby", "body": "gone soon"})
        first = await server.http.post(f"/admin/api/messages/{sent['id']}/delete", headers=ADMIN)
        assert first.json() == {"id": sent["id"], "deleted": True}
        assert await alice.next("message:deleted") == {"id": sent["id"], "topic": "lobby"}
        again = await server.http.post(f"/admin/api/messages/{sent['id']}/delete", headers=ADMIN)
        assert again.json() == {"id": sent["id"], "deleted": False}
        missing = await server.http.post("/admin/api/messages/999999/delete", headers=ADMIN)
        assert missing.status_code == 404
        unknown = await server.http.post("/admin/api/users/ghost/disable", headers=ADMIN)
        assert unknown.status_code == 404
