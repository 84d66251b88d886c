"""Joining the workspace end to end (PROTOCOL.md section 19) on a real server: registration
``open``, ``invite`` and ``closed`` as an admin sets it (and ``PARLEY_REGISTRATION`` as a new
server's default), invitation links (used up, expired, revoked; their topics; two sign-ups racing
for the last use), allowed domains, the settings for each role (audited), and the accounts an
admin creates. Bad input: a clear error, nothing stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from db.workspace.repository import WorkspaceRepository
from db.workspace.tables import Invite, WorkspaceSetting
from tests.contract import assert_error
from tests.support import PASSWORD, LiveServer, bearer, count, running
from tests.support import test_settings as make_settings


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(make_settings(tmp_path / "data")) as live:
        yield live


class Team:
    """olive (the owner: the first account), adam (an admin) and mabel (a member)."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.tokens: dict[str, str] = {}

    async def start(self) -> Team:
        for name in ("olive", "adam", "mabel"):
            self.tokens[name] = await self.server.register(name)
        made = await self.server.http.patch(
            "/api/admin/users/adam", headers=self.auth("olive"), json={"role": "admin"}
        )
        assert made.status_code == 200, made.text
        return self

    def auth(self, name: str) -> dict[str, str]:
        return bearer(self.tokens[name])

    async def settings(self, who: str, **body: Any) -> httpx.Response:
        return await self.server.http.patch("/api/admin/settings", headers=self.auth(who), json=body)

    async def invite(self, who: str = "adam", **body: Any) -> httpx.Response:
        return await self.server.http.post("/api/invites", headers=self.auth(who), json=body)

    async def code(self, who: str = "adam", **body: Any) -> str:
        made = await self.invite(who, **body)
        assert made.status_code == 201, made.text
        code: str = made.json()["code"]
        return code


async def sign_up(server: LiveServer, username: str, invite: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"username": username, "password": PASSWORD}
    if invite is not None:
        body["invite"] = invite
    return await server.http.post("/api/users", json=body)


async def methods(server: LiveServer) -> str:
    answer = await server.http.get("/api/auth/methods")
    assert answer.status_code == 200, answer.text
    registration: str = answer.json()["registration"]
    return registration


async def test_open_by_default_then_invite_only_then_closed(server):
    team = await Team(server).start()
    assert await methods(server) == "open"
    assert (await team.settings("adam", registration="invite")).json()["registration"] == "invite"
    assert await methods(server) == "invite"
    refused = await sign_up(server, "nora")
    assert_error(refused, 403, "forbidden")
    assert "invit" in refused.json()["error"]["message"]
    code = await team.code()
    joined = await sign_up(server, "nora", code)
    assert joined.status_code == 201, joined.text
    assert (await team.settings("olive", registration="closed")).status_code == 200
    assert await methods(server) == "closed"
    assert_error(await sign_up(server, "otto"), 403, "forbidden")
    assert_error(await sign_up(server, "otto", await team.code()), 403, "forbidden")
    async with server.chat.db.read() as repos:
        assert await repos.users.by_name("otto") is None


async def test_a_used_up_expired_or_revoked_code_is_no_longer_valid(server):
    team = await Team(server).start()
    await team.settings("olive", registration="invite")
    once = await team.code(max_uses=1)
    assert (await sign_up(server, "first", once)).status_code == 201
    used_up = await sign_up(server, "second", once)
    assert_error(used_up, 422, "invalid")
    assert used_up.json()["error"]["message"] == "this invitation is no longer valid"

    expiring = await team.invite(max_uses=5)
    async with server.chat.db.write() as repos:  # an hour ago: the clock of the server moved on
        await repos.session.execute(
            update(Invite)
            .where(Invite.id == expiring.json()["id"])  # type: ignore[arg-type]
            .values(expires_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert_error(await sign_up(server, "third", expiring.json()["code"]), 422, "invalid")

    revoked = await team.invite(max_uses=5)
    gone = await server.http.delete(f"/api/invites/{revoked.json()['id']}", headers=team.auth("adam"))
    assert gone.status_code == 204, gone.text
    assert_error(await sign_up(server, "fourth", revoked.json()["code"]), 422, "invalid")
    assert_error(await sign_up(server, "fifth", "no-such-code"), 422, "invalid")
    async with server.chat.db.read() as repos:
        for name in ("second", "third", "fourth", "fifth"):
            assert await repos.users.by_name(name) is None
    listed = await server.http.get("/api/invites", headers=team.auth("olive"))
    assert listed.status_code == 200, listed.text
    rows = listed.json()["invites"]
    assert all("code" not in row for row in rows)
    assert {row["id"]: row["usable"] for row in rows}[revoked.json()["id"]] is False


async def test_two_sign_ups_racing_for_the_last_use_one_wins(server):
    team = await Team(server).start()
    await team.settings("olive", registration="invite")
    code = await team.code(max_uses=1)
    answers = await asyncio.gather(*(sign_up(server, f"racer{n}", code) for n in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 422, 422, 422], [a.text for a in answers]
    listed = (await server.http.get("/api/invites", headers=team.auth("olive"))).json()["invites"]
    assert [row["uses_left"] for row in listed] == [0]
    async with server.chat.db.read() as repos:
        made = [name for n in range(4) if await repos.users.by_name(name := f"racer{n}")]
    assert len(made) == 1


async def test_the_account_joins_the_invites_topics_besides_the_default_ones(server):
    team = await Team(server).start()
    for name, private in (("design", False), ("secret", True)):
        made = await server.http.post(
            "/api/topics", headers=team.auth("mabel"), json={"name": name, "private": private}
        )
        assert made.status_code == 201, made.text
    # adam is no member of the private topic: he may not invite to it (not even learn it exists)
    assert_error(await team.invite("adam", topics=["secret"]), 404, "not_found")
    assert_error(await team.invite("adam", topics=["nowhere"]), 404, "not_found")
    await team.settings("olive", members_invite=True)
    code = await team.code("mabel", topics=["design", "secret"])
    joined = await sign_up(server, "nora", code)
    assert joined.status_code == 201, joined.text
    async with server.chat.db.read() as repos:
        nora = await repos.users.by_name("nora")
        assert nora is not None
        names = set()
        for name in ("design", "secret", "elsewhere", *server.chat.default_topics):
            topic = await repos.topics.by_name(name)
            if topic is not None and await repos.memberships.get(topic.id, nora.id) is not None:
                names.add(name)
    assert names == {"design", "secret", *server.chat.default_topics}


async def test_settings_for_each_role_audited_and_validated(server):
    team = await Team(server).start()
    assert_error(await server.http.get("/api/admin/settings", headers=team.auth("mabel")), 403, "forbidden")
    assert_error(await team.settings("mabel", registration="closed"), 403, "forbidden")
    assert_error(await server.http.get("/api/admin/settings"), 401, "unauthorized")
    seen = await server.http.get("/api/admin/settings", headers=team.auth("adam"))
    assert seen.json() == {"registration": "open", "allowed_domains": [], "members_invite": False}
    changed = await team.settings("adam", allowed_domains=["Example.ORG", "bücher.example", "example.org"])
    assert changed.status_code == 200, changed.text
    assert changed.json()["allowed_domains"] == ["example.org", "xn--bcher-kva.example"]
    for bad in (
        {"registration": "sometimes"},
        {"allowed_domains": ["not a domain"]},
        {"allowed_domains": ["localhost"]},
        {"allowed_domains": [f"d{n}.example" for n in range(51)]},
        {"members_invite": "yes"},
    ):
        assert_error(await team.settings("adam", **bad), 422, "invalid")
    again = await server.http.get("/api/admin/settings", headers=team.auth("olive"))
    assert again.json()["allowed_domains"] == ["example.org", "xn--bcher-kva.example"]
    assert again.json()["registration"] == "open"
    audit = await server.http.get(
        "/api/admin/audit", params={"action": "workspace.settings"}, headers=team.auth("olive")
    )
    assert audit.status_code == 200, audit.text
    [entry] = audit.json()["entries"]
    assert entry["actor"] == "adam"


async def test_invites_bounds_and_who_may_make_them(server):
    team = await Team(server).start()
    assert_error(await team.invite("mabel"), 403, "forbidden")
    assert_error(await server.http.get("/api/invites", headers=team.auth("mabel")), 403, "forbidden")
    for bad in (
        {"max_uses": 0},
        {"max_uses": 1001},
        {"expires_in": 59},
        {"expires_in": 90 * 86400 + 1},
        {"topics": [f"t{n}" for n in range(21)]},
        {"email": "not-an-address"},
    ):
        assert_error(await team.invite("adam", **bad), 422, "invalid")
    # no SMTP settings here: an invite to an address is refused, not stored unsent
    assert_error(await team.invite("adam", email="nora@example.org"), 422, "invalid")
    assert await count(server, Invite) == 0
    made = await team.invite("adam", max_uses=3, expires_in=3600)
    body = made.json()
    assert set(body) == {"id", "code", "url", "expires_at", "uses_left"}
    assert body["url"] == f"/#invite={body['code']}" and body["uses_left"] == 3
    await team.settings("olive", members_invite=True)
    mine = await team.invite("mabel")
    assert mine.status_code == 201
    listed = await server.http.get("/api/invites", headers=team.auth("mabel"))
    assert [row["id"] for row in listed.json()["invites"]] == [mine.json()["id"]]
    assert_error(
        await server.http.delete(f"/api/invites/{body['id']}", headers=team.auth("mabel")), 404, "not_found"
    )


async def test_allowed_domains_and_the_invites_email(tmp_path):
    from tests.smtp_server import smtp_server

    with smtp_server(tmp_path / "smtp") as smtp:
        settings = make_settings(
            tmp_path / "data", smtp_url=smtp.url(), smtp_from="Parley <parley@example.com>"
        )
        async with running(settings) as server:
            team = await Team(server).start()
            await team.settings("olive", allowed_domains=["example.org"], registration="invite")
            assert_error(await team.invite("adam", email="nora@elsewhere.net"), 422, "invalid")
            made = await team.invite("adam", email="nora@example.org")
            assert made.status_code == 201, made.text
            mail = await smtp.recorder.next()
            assert mail.recipients == ["nora@example.org"]
            assert "adam" in mail.message["Subject"]
            text = mail.part("plain")
            assert f"/#invite={made.json()['code']}" in text
            joined = await sign_up(server, "nora", made.json()["code"])
            assert joined.status_code == 201, joined.text
            # the domains changed since the invite was made: its address is refused now
            late = await team.invite("adam", email="otto@example.org")
            await team.settings("olive", allowed_domains=["example.com"])
            await smtp.recorder.next()
            assert_error(await sign_up(server, "otto", late.json()["code"]), 403, "forbidden")
            # a member's own address too: outside the domains, refused and nothing stored
            outside = await server.http.put(
                "/api/users/me/email", headers=team.auth("mabel"), json={"email": "mabel@example.org"}
            )
            assert_error(outside, 403, "forbidden")
            prefs = await server.http.get("/api/users/me/notifications", headers=team.auth("mabel"))
            assert prefs.json()["email_address"] is None, prefs.text
            inside = await server.http.put(
                "/api/users/me/email", headers=team.auth("mabel"), json={"email": "mabel@example.com"}
            )
            assert inside.status_code == 200, inside.text
            assert (await smtp.recorder.next()).recipients == ["mabel@example.com"]


async def test_an_admin_creates_accounts_even_when_closed(tmp_path):
    from tests.smtp_server import smtp_server

    with smtp_server(tmp_path / "smtp") as smtp:
        settings = make_settings(
            tmp_path / "data",
            smtp_url=smtp.url(),
            smtp_from="Parley <parley@example.com>",
            registration="closed",
        )
        async with running(settings) as server:
            assert await methods(server) == "closed"
            owner = await server.chat.users.create("olive", PASSWORD)  # the operator's first account
            token = (await server.chat.users.issue_token(owner.username)).token
            made = await server.http.post(
                "/api/admin/users",
                headers=bearer(token),
                json={"username": "pat", "password": "a long password"},
            )
            assert made.status_code == 201, made.text
            assert made.json() == {"username": "pat", "role": "member", "invite": None}
            login = await server.http.post(
                "/api/auth/login", json={"username": "pat", "password": "a long password"}
            )
            assert login.status_code == 200, login.text
            pat = bearer(login.json()["token"])
            assert_error(
                await server.http.post("/api/admin/users", headers=pat, json={"username": "quinn"}),
                403,
                "forbidden",
            )
            invited = await server.http.post(
                "/api/admin/users",
                headers=bearer(token),
                json={"username": "ruth", "email": "ruth@example.org"},
            )
            assert invited.status_code == 201, invited.text
            mail = await smtp.recorder.next()
            assert mail.recipients == ["ruth@example.org"] and "ruth" in mail.part("plain")
            code = invited.json()["invite"]["code"]
            assert f"/#invite={code}" in mail.part("plain")
            assert_error(await sign_up(server, "someone", code), 422, "invalid")  # bound to ruth
            joined = await sign_up(server, "ruth", code)
            assert joined.status_code == 201, joined.text
            assert_error(await sign_up(server, "ruth", code), 422, "invalid")  # used once
            assert_error(
                await server.http.post("/api/admin/users", headers=bearer(token), json={"username": "sam"}),
                422,
                "invalid",
            )
            async with server.chat.db.read() as repos:
                assert await repos.users.by_name("sam") is None


async def test_the_stored_registration_wins_over_the_default(tmp_path):
    settings = make_settings(tmp_path / "data", registration="invite")
    async with running(settings) as server:
        assert await methods(server) == "invite"
        assert_error(await sign_up(server, "olive"), 403, "forbidden")
        async with server.chat.db.write() as repos:
            await repos.of(WorkspaceRepository).store({"registration": "open"}, datetime.now(UTC))
        assert await methods(server) == "open"
        assert (await sign_up(server, "olive")).status_code == 201
        assert await count(server, WorkspaceSetting) == 1
