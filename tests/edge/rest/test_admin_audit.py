"""The Admin UI and the audit log (PROTOCOL.md section 16): the Audit log page and its JSON route
(only with the Admin UI on and its account), every Admin UI sign-in (the pages' and the Socket.IO
Admin UI's, refused ones too) and every Admin UI action written as a row naming ``admin-ui:<name>``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.edge.rest.test_admin_reports import ADMIN, ADMIN_PASSWORD, basic
from tests.edge.sio.test_admin import Admin, refused
from tests.support import LiveServer, running, send
from tests.support import test_settings as make_settings


def admin_settings(tmp_path: Path, **overrides: Any) -> Any:
    return make_settings(tmp_path / "data", admin_ui=True, admin_password=ADMIN_PASSWORD, **overrides)


async def listed(server: LiveServer, **params: Any) -> list[dict[str, Any]]:
    answer = await server.http.get("/admin/api/audit", params=params, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def shown(entries: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(e["actor"], e["action"], e["target"]) for e in entries]


async def test_the_audit_routes_are_absent_without_the_admin_ui(tmp_path: Path) -> None:
    async with running(make_settings(tmp_path / "data")) as server:
        assert (await server.http.get("/admin/audit")).status_code == 404
        assert (await server.http.get("/admin/api/audit", headers=ADMIN)).status_code == 404


async def test_the_page_lists_only_for_the_admin_and_sign_ins_are_audited(tmp_path: Path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        page = await server.http.get("/admin/audit")
        assert page.status_code == 200 and 'src="parley-audit.js"' in page.text
        script = await server.http.get("/admin/parley-audit.js")
        assert script.status_code == 200 and "api/audit" in script.text
        assert 'href="audit"' in (await server.http.get("/admin/reports")).text
        for headers in ({}, basic("admin", "wrong-password")):
            refused_page = await server.http.get("/admin/api/audit", headers=headers)
            assert refused_page.status_code == 401
            assert refused_page.json()["error"]["code"] == "unauthorized"
        assert (await server.http.get("/admin/api/login", headers=ADMIN)).status_code == 204

        entries = await listed(server)
        assert shown(entries) == [
            ("admin-ui:admin", "admin.login", None),
            ("admin-ui", "admin.login_refused", None),
            ("admin-ui", "admin.login_refused", None),
        ]
        assert entries[0]["details"] == {"via": "page", "address": "127.0.0.1"}
        assert "wrong-password" not in str(entries)
        assert shown(await listed(server)) == shown(entries)  # listing writes nothing

        bad = await server.http.get("/admin/api/audit", params={"since": "yesterday"}, headers=ADMIN)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
        too_many = await server.http.get("/admin/api/audit", params={"limit": 0}, headers=ADMIN)
        assert too_many.status_code == 422


async def test_the_admin_ui_actions_are_audited_and_the_page_filters(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path, admin_read_only=False)
    async with running(settings) as server:
        alice, bob = await server.user("alice"), await server.user("bobby")
        sent = await send(alice, {"topic": "lobby", "body": "rude"})
        await bob.ok("message:report", {"id": sent["id"], "reason": "rude"})
        deleted = await server.http.post(f"/admin/api/messages/{sent['id']}/delete", headers=ADMIN)
        assert deleted.status_code == 200
        disabled = await server.http.post("/admin/api/users/alice/disable", headers=ADMIN)
        assert disabled.status_code == 200
        missing = await server.http.post("/admin/api/users/ghost/disable", headers=ADMIN)
        assert missing.status_code == 404  # no row
        for body in ("rude too", "rude as well"):
            await send(bob, {"topic": "lobby", "body": body})
        found = await server.http.get("/admin/api/search", params={"q": "rude", "limit": 1}, headers=ADMIN)
        assert found.status_code == 200
        searched = (await listed(server, action="admin.search"))[0]
        assert (searched["actor"], searched["details"]) == ("admin-ui:admin", {"q": "rude"})
        params = {"q": "rude", "cursor": found.json()["next"], "limit": 1}
        assert (await server.http.get("/admin/api/search", params=params, headers=ADMIN)).status_code == 200
        assert len(await listed(server, action="admin.search")) == 1  # a next page writes no row

        entries = [e for e in await listed(server) if e["action"] != "admin.search"]
        assert shown(entries) == [
            ("admin-ui:admin", "user.disable", "alice"),
            ("admin-ui:admin", "message.remove", str(sent["id"])),
            ("bobby", "message.report", str(sent["id"])),
        ]
        assert entries[1]["topic"] == "lobby" and entries[1]["details"]["sender"] == "alice"
        assert entries[2]["actor_id"] is not None and entries[0]["actor_id"] is None
        assert shown(await listed(server, actor="bobby")) == [("bobby", "message.report", str(sent["id"]))]
        assert [e["action"] for e in await listed(server, action="user.disable")] == ["user.disable"]
        assert len(await listed(server, limit=1)) == 1
        assert await listed(server, since="2999-01-01") == []
        assert len(await listed(server, since="2000-01-01T00:00:00Z")) == 4


async def test_socket_io_admin_logins_and_disconnects_are_audited(tmp_path: Path) -> None:
    async with running(admin_settings(tmp_path, admin_read_only=False)) as server:
        alice = await server.user("alice")
        assert (
            await refused(server.url, {"username": "admin", "password": "nope-nope"}) == "invalid credentials"
        )
        admin = Admin()
        await admin.connect(server.url)
        await admin.next("config")
        sid = alice.sio.get_sid("/")
        await admin.sio.emit("_disconnect", ("/", False, sid), namespace="/admin")
        await admin.until("socket_disconnected", lambda args: args[1] == sid)
        await admin.sio.disconnect()

        entries = await listed(server, since="2000-01-01")
        assert shown(entries) == [
            ("admin-ui:admin", "admin.disconnect", sid),
            ("admin-ui:admin", "admin.login", None),
            ("admin-ui", "admin.login_refused", None),
        ]
        assert entries[0]["details"] == {"namespace": "/", "sockets": 1}
        assert entries[1]["details"]["via"] == "socket.io"
