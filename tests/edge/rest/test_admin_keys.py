"""The server API's keys for the workspace's admins (PROTOCOL.md sections 17 and 19): an owner or
admin makes, lists and revokes keys over REST, the audit log names them; a member gets 403 and
changes nothing; a bad label or scope is refused and stores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.backends.tables import ServerKeyRow
from tests.contract import assert_error
from tests.support import LiveServer, bearer, count, running
from tests.support import test_settings as make_settings


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(make_settings(tmp_path / "data")) as live:
        yield live


async def test_an_admin_makes_lists_and_revokes_keys_and_a_member_may_not(server):
    olive = bearer(await server.register("olive"))  # the first account: the owner
    mabel = bearer(await server.register("mabel"))
    made = await server.http.post(
        "/api/admin/keys", headers=olive, json={"label": "shop", "scopes": ["publish"]}
    )
    assert made.status_code == 201, made.text
    assert made.json()["key"].startswith("psk_") and made.json()["scopes"] == ["publish"]
    listed = await server.http.get("/api/admin/keys", headers=olive)
    assert [(k["label"], k["scopes"], k["bot"]) for k in listed.json()["keys"]] == [
        ("shop", ["publish"], "shop")
    ]
    assert made.json()["key"] not in listed.text

    for method, path, body in (
        ("GET", "/api/admin/keys", None),
        ("POST", "/api/admin/keys", {"label": "mine"}),
        ("DELETE", f"/api/admin/keys/{made.json()['id']}", None),
    ):
        assert_error(await server.http.request(method, path, headers=mabel, json=body), 403, "forbidden")
    assert await count(server, ServerKeyRow) == 1

    revoked = await server.http.delete(f"/api/admin/keys/{made.json()['id']}", headers=olive)
    assert revoked.status_code == 200, revoked.text
    assert (await server.http.get("/api/admin/keys", headers=olive)).json() == {"keys": []}
    rows = (await server.chat.audit.newest(10, actor="olive")).entries
    assert {row.action for row in rows} >= {"server_key.create", "server_key.revoke"}


async def test_a_bad_key_request_is_refused_and_stores_nothing(server):
    olive = bearer(await server.register("olive"))
    for body in (
        {"label": ""},
        {"label": "x" * 65},
        {"label": "x", "scopes": ["root"]},
        {"label": "x", "scopes": []},
    ):
        assert_error(await server.http.post("/api/admin/keys", headers=olive, json=body), 422, "invalid")
    assert_error(await server.http.delete(f"/api/admin/keys/{'0' * 32}", headers=olive), 404, "not_found")
    assert await count(server, ServerKeyRow) == 0
