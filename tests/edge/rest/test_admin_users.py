"""Workspace roles end to end (PROTOCOL.md section 19) on a real server: the first account owns
the workspace, the profile says each role, ``GET``/``PATCH /api/admin/users`` for each role, and
what a workspace owner or admin may do in a public topic (moderate, pin, delete, archive,
rename, retention, hooks) while a private topic stays its members' own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.contract import assert_error
from tests.support import WAIT, Client, LiveServer, bearer, running
from tests.support import test_settings as make_settings


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(make_settings(tmp_path / "data")) as live:
        yield live


class Team:
    """olive (the owner: the first account), adam (made an admin by olive), mabel and max
    (members), each with a token and a socket."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.tokens: dict[str, str] = {}
        self.sockets: dict[str, Client] = {}

    async def start(self) -> Team:
        for name in ("olive", "adam", "mabel", "max"):
            self.tokens[name] = await self.server.register(name)
            self.sockets[name] = await self.server.connect(name, self.tokens[name])
        made = await self.patch("olive", "adam", {"role": "admin"})
        assert made.status_code == 200, made.text
        return self

    def auth(self, name: str) -> dict[str, str]:
        return bearer(self.tokens[name])

    async def patch(self, who: str, name: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
        return await self.server.http.patch(f"/api/admin/users/{name}", headers=self.auth(who), json=body)

    async def role_of(self, name: str) -> str:
        async with self.server.chat.db.read() as repos:
            user = await repos.users.by_name(name)
        assert user is not None
        return user.role


async def test_the_first_account_owns_the_workspace_and_the_profile_says_each_role(server):
    team = await Team(server).start()
    assert server.chat.roles.of((await _user(server, "olive")).id) == "owner"
    for name, role in (("olive", "owner"), ("adam", "admin"), ("mabel", "member")):
        profile = await server.http.get(f"/api/users/{name}", headers=team.auth("max"))
        assert profile.status_code == 200, profile.text
        assert profile.json()["role"] == role
    mine = await server.http.get("/api/users/me", headers=team.auth("olive"))
    assert mine.json()["role"] == "owner"


async def test_owners_and_admins_list_the_users_and_members_are_refused(server):
    team = await Team(server).start()
    for who in ("olive", "adam"):
        listed = await server.http.get("/api/admin/users", headers=team.auth(who))
        assert listed.status_code == 200, listed.text
        rows = {row["username"]: row for row in listed.json()["users"]}
        assert {name: row["role"] for name, row in rows.items()} == {
            "adam": "admin",
            "mabel": "member",
            "max": "member",
            "olive": "owner",
        }
        assert rows["mabel"]["state"] == "active" and rows["mabel"]["methods"] == ["password"]
        assert listed.json()["next"] is None
    refused = await server.http.get("/api/admin/users", headers=team.auth("mabel"))
    assert_error(refused, 403, "forbidden")


async def test_the_listing_filters_and_pages(server):
    team = await Team(server).start()
    assert (await team.patch("adam", "max", {"disabled": True})).status_code == 200
    olive = team.auth("olive")
    found = await server.http.get("/api/admin/users", params={"q": "MA"}, headers=olive)
    assert [row["username"] for row in found.json()["users"]] == ["mabel", "max"]
    admins = await server.http.get("/api/admin/users", params={"role": "admin"}, headers=olive)
    assert [row["username"] for row in admins.json()["users"]] == ["adam"]
    off = await server.http.get("/api/admin/users", params={"disabled": "true"}, headers=olive)
    assert [(row["username"], row["state"]) for row in off.json()["users"]] == [("max", "disabled")]
    first = await server.http.get("/api/admin/users", params={"limit": 2}, headers=olive)
    assert [row["username"] for row in first.json()["users"]] == ["adam", "mabel"]
    assert first.json()["next"] == "mabel"
    rest = await server.http.get("/api/admin/users", params={"limit": 2, "after": "mabel"}, headers=olive)
    assert [row["username"] for row in rest.json()["users"]] == ["max", "olive"]
    assert rest.json()["next"] is None
    bad = await server.http.get("/api/admin/users", params={"role": "king"}, headers=olive)
    assert_error(bad, 422, "invalid")


async def test_only_an_owner_grants_or_removes_owner_and_admin(server):
    team = await Team(server).start()
    assert_error(await team.patch("adam", "mabel", {"role": "admin"}), 403, "forbidden")
    assert_error(await team.patch("adam", "olive", {"role": "member"}), 403, "forbidden")
    assert_error(await team.patch("mabel", "max", {"role": "admin"}), 403, "forbidden")
    assert (await team.role_of("mabel"), await team.role_of("olive")) == ("member", "owner")
    made = await team.patch("olive", "mabel", {"role": "owner"})
    assert made.status_code == 200 and made.json()["role"] == "owner"
    back = await team.patch("mabel", "adam", {"role": "member"})
    assert back.status_code == 200 and back.json()["role"] == "member"
    audit = await server.http.get(
        "/api/admin/audit", params={"action": "user.role"}, headers=team.auth("olive")
    )
    assert audit.status_code == 200, audit.text
    assert len(audit.json()["entries"]) == 3


async def test_the_last_owner_can_neither_be_demoted_nor_disabled(server):
    team = await Team(server).start()
    refused = await team.patch("olive", "olive", {"role": "admin"})
    assert_error(refused, 403, "forbidden")
    assert "last owner" in refused.json()["error"]["message"]
    assert_error(await team.patch("olive", "olive", {"disabled": True}), 403, "forbidden")
    assert_error(await team.patch("adam", "olive", {"disabled": True}), 403, "forbidden")
    assert await team.role_of("olive") == "owner"
    assert (await _user(server, "olive")).disabled_at is None
    assert team.sockets["olive"].connected


async def test_an_admin_disables_a_member_whose_socket_closes_and_enables_them(server):
    team = await Team(server).start()
    closed = closing(team.sockets["mabel"])
    done = await team.patch("adam", "mabel", {"disabled": True})
    assert done.status_code == 200 and done.json()["state"] == "disabled"
    await asyncio.wait_for(closed.wait(), WAIT)
    login = await server.http.post("/api/auth/login", json={"username": "mabel", "password": "password123"})
    assert_error(login, 401, "unauthorized")
    again = await team.patch("adam", "mabel", {"disabled": False})
    assert again.status_code == 200 and again.json()["state"] == "active"
    login = await server.http.post("/api/auth/login", json={"username": "mabel", "password": "password123"})
    assert login.status_code == 200


async def test_bad_bodies_and_unknown_users_change_nothing(server):
    team = await Team(server).start()
    assert_error(await team.patch("olive", "mabel", {"role": "king"}), 422, "invalid")
    assert_error(await team.patch("olive", "mabel", {"disabled": "yes"}), 422, "invalid")
    assert_error(await team.patch("olive", "mabel", {}), 422, "invalid")
    assert_error(await team.patch("olive", "nobody", {"role": "admin"}), 404, "not_found")
    assert await team.role_of("mabel") == "member"


async def test_workspace_admins_moderate_every_public_topic_members_do_not(server):
    team = await Team(server).start()
    mabel, maxc, adam = team.sockets["mabel"], team.sockets["max"], team.sockets["adam"]
    await mabel.ok("topic:create", {"name": "plans"})
    await maxc.ok("topic:subscribe", {"topic": "plans"})
    # In the default topic nobody owns: a member may not mute, the workspace admin may.
    refused = await maxc.call("topic:mute", {"topic": "lobby", "username": "mabel"})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert (await adam.call("topic:mute", {"topic": "lobby", "username": "max"}))["ok"] is True
    # In a public topic adam never joined: kick, rename, retention, archive.
    assert (await adam.call("topic:kick", {"topic": "plans", "username": "max"}))["ok"] is True
    renamed = await server.http.patch(
        "/api/topics/plans", headers=team.auth("adam"), json={"name": "roadmap", "retention_days": 30}
    )
    assert renamed.status_code == 200, renamed.text
    archived = await server.http.post("/api/topics/roadmap/archive", headers=team.auth("olive"))
    assert archived.status_code == 200, archived.text
    # Demoted, adam's socket (opened before) is refused at once.
    assert (await team.patch("olive", "adam", {"role": "member"})).status_code == 200
    again = await adam.call("topic:unmute", {"topic": "lobby", "username": "max"})
    assert again["ok"] is False and again["error"]["code"] == "forbidden"


async def test_a_private_topic_stays_closed_to_workspace_admins(server):
    team = await Team(server).start()
    mabel = team.sockets["mabel"]
    await mabel.ok("topic:create", {"name": "secret", "private": True})
    for who in ("olive", "adam"):
        refused = await team.sockets[who].call("topic:kick", {"topic": "secret", "username": "mabel"})
        assert refused["ok"] is False and refused["error"]["code"] == "not_found", refused
        archived = await server.http.post("/api/topics/secret/archive", headers=team.auth(who))
        assert_error(archived, 404, "not_found")


async def test_workspace_admins_pin_and_delete_in_a_public_topic(server):
    team = await Team(server).start()
    mabel, maxc, adam = team.sockets["mabel"], team.sockets["max"], team.sockets["adam"]
    sent = await mabel.ok("message:send", {"topic": "lobby", "body": "hello"})
    refused = await maxc.call("message:pin", {"id": sent["id"]})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert (await adam.call("message:pin", {"id": sent["id"]}))["ok"] is True
    refused = await maxc.call("message:delete", {"id": sent["id"]})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert (await adam.call("message:delete", {"id": sent["id"]}))["ok"] is True


async def test_workspace_admins_manage_the_hooks_of_a_public_topic(server):
    team = await Team(server).start()
    await team.sockets["mabel"].ok("topic:create", {"name": "plans"})
    refused = await server.http.post("/api/topics/plans/hooks", headers=team.auth("max"), json={})
    assert_error(refused, 403, "forbidden")
    made = await server.http.post("/api/topics/plans/hooks", headers=team.auth("adam"), json={})
    assert made.status_code == 201, made.text


def closing(client: Client) -> asyncio.Event:
    """Set when ``client``'s socket is closed."""
    closed = asyncio.Event()
    client.sio.on("disconnect", lambda *_: closed.set())
    return closed


async def _user(server: LiveServer, name: str):  # type: ignore[no-untyped-def]
    async with server.chat.db.read() as repos:
        user = await repos.users.by_name(name)
    assert user is not None
    return user


async def test_the_default_topic_shows_no_owner_and_the_workspace_owner_as_a_member(server):
    team = await Team(server).start()
    members = (await team.sockets["mabel"].ok("topic:members", {"topic": "lobby"}))["members"]
    assert {member["username"]: member["role"] for member in members} == {
        "olive": "member",
        "adam": "member",
        "mabel": "member",
        "max": "member",
    }


async def test_a_role_change_reaches_the_users_own_sockets_and_co_members_as_user_updated(server):
    team = await Team(server).start()
    mabel, max_ = team.sockets["mabel"], team.sockets["max"]
    for client in (mabel, max_):  # adam's promotion at the start first
        assert (await client.next("user:updated"))["username"] == "adam"

    assert (await team.patch("olive", "mabel", {"role": "admin"})).status_code == 200

    for client in (mabel, max_):  # her own page, and max's lists (both in the default topic)
        updated = await client.next("user:updated")
        assert (updated["username"], updated["role"]) == ("mabel", "admin")
    assert (await team.patch("olive", "mabel", {"role": "member"})).status_code == 200
    assert (await mabel.next("user:updated"))["role"] == "member"
    assert (await team.patch("olive", "mabel", {"role": "member"})).status_code == 200  # no change
    await mabel.ok("topic:list", {})  # a round trip: anything sent before it has arrived
    assert mabel.pending("user:updated") == []
