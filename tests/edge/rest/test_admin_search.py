"""The operators' message search behind the Admin UI (``/admin/search``, ``/admin/api/login``,
``/admin/api/search``): the Admin UI's credentials as HTTP Basic, refused like its own login, and a
search over every topic and direct conversation, private ones included."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from tests.support import LiveServer, running, send
from tests.support import test_settings as make_settings

ADMIN_PASSWORD = "tangerine-kettle-49"


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


OPERATOR = basic("admin", ADMIN_PASSWORD)


def admin_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_settings(tmp_path / "data", admin_ui=True, admin_password=ADMIN_PASSWORD)


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_only_the_admin_credentials_open_it(tmp_path: Path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        http = server.http
        page = await http.get("/admin/search")
        assert page.status_code == 200 and "/js/admin_search.js" in page.text
        assert (await http.get("/admin/api/login", headers=OPERATOR)).status_code == 204
        for headers in (
            {},
            basic("admin", "wrong-password"),
            {"Authorization": "Basic !!"},
            basic("root", ADMIN_PASSWORD),
        ):
            response = await http.get("/admin/api/login", headers=headers)
            assert error_of(response) == (401, "unauthorized"), headers
            assert "www-authenticate" not in response.headers  # no browser dialog
        token = await server.register("alice")
        user = await http.get(
            "/admin/api/search", params={"q": "x"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert error_of(user) == (401, "unauthorized")  # a user's token is not an operator's


async def test_failures_are_limited_per_address(tmp_path: Path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        for _ in range(10):
            response = await server.http.get("/admin/api/login", headers=basic("admin", "nope-nope-nope"))
            assert response.status_code == 401
        limited = await server.http.get("/admin/api/login", headers=OPERATOR)  # even the right password
        assert error_of(limited) == (429, "rate_limited")


async def test_off_without_the_admin_ui(live_server: LiveServer) -> None:
    for path in ("/admin/api/login", "/admin/api/search?q=x"):
        assert (await live_server.http.get(path, headers=OPERATOR)).status_code == 404


async def test_an_operator_finds_messages_of_every_conversation(tmp_path: Path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        alice, bob = await server.user("alice"), await server.user("bobby")
        await alice.ok("topic:create", {"name": "vault", "private": True})
        hidden = await send(alice, {"topic": "vault", "body": "the kiwi <key> & more"})
        direct = await send(alice, {"to": "bobby", "body": "kiwi for you"})
        await bob.ok("topic:create", {"name": "market"})
        public = await send(bob, {"topic": "market", "body": "kiwis are cheap"})
        await send(bob, {"topic": "market", "body": "apples"})

        async def search(**params: object) -> dict[str, object]:
            response = await server.http.get("/admin/api/search", params=params, headers=OPERATOR)
            assert response.status_code == 200, response.text
            found: dict[str, object] = response.json()
            return found

        def ids(page: dict[str, object]) -> list[int]:
            return [hit["message"]["id"] for hit in page["hits"]]  # type: ignore[attr-defined,index]

        words = await search(q="kiwi")  # "kiwis" is another word
        assert ids(words) == [direct["id"], hidden["id"]]
        assert "<mark>kiwi</mark> &lt;key&gt; &amp; more" in words["hits"][1]["highlight"]  # type: ignore[index]
        first = await search(q="kiwi*", limit=2)  # newest first, every conversation
        assert ids(first) == [public["id"], direct["id"]]
        assert isinstance(first["next"], str) and first["next"]
        second = await search(q="kiwi*", limit=2, cursor=first["next"])
        assert (ids(second), second["next"]) == ([hidden["id"]], None)

        bad = await server.http.get("/admin/api/search", params={"q": ""}, headers=OPERATOR)
        assert error_of(bad) == (422, "invalid")
