"""Single sign-on obeys the workspace's joining rules (PROTOCOL.md section 19), against the suite's
real OpenID Connect provider (tests/sso_support.py): under ``closed`` or ``invite`` a sign-in only
finds an existing account (a new identity is refused, no account made) unless it started from an
invitation's link under ``invite``; allowed domains are checked against the provider's verified
email claim."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.workspace.repository import WorkspaceRepository
from server.config import Settings
from tests.contract import assert_error
from tests.sso_support import Provider, browser_client, callback_url, sign_in, sso_settings
from tests.support import LiveServer, bearer, user_count


@pytest.fixture
def settings(tmp_path: Path, oidc: Provider) -> Settings:
    return sso_settings(tmp_path / "data", oidc.issuer)


async def store(live: LiveServer, **values: object) -> None:
    async with live.chat.db.write() as repos:
        await repos.of(WorkspaceRepository).store(dict(values), datetime.now(UTC))


async def refused(live: LiveServer, login: str) -> dict[str, object]:
    async with browser_client() as client:
        answer = await client.get(await callback_url(client, live.url, login))
    return assert_error(answer, 403, "forbidden")


@pytest.mark.parametrize("registration", ["closed", "invite"])
async def test_a_new_identity_is_refused_but_an_existing_account_still_signs_in(sso, registration):
    await sign_in(sso, "alice")  # made while registration was open
    await store(sso, registration=registration)
    body = await refused(sso, "ada.l")
    assert "existing accounts" in str(body["error"])
    assert await user_count(sso) == 1
    assert (await sign_in(sso, "alice"))["token"]


async def test_a_browser_is_sent_back_to_the_page_with_the_error(sso):
    await store(sso, registration="closed")
    async with browser_client() as client:
        callback = await callback_url(client, sso.url, "ada.l")
        answer = await client.get(callback, headers={"Sec-Fetch-Mode": "navigate"})
    assert answer.status_code == 302
    assert answer.headers["location"] == "/#oidc_error=forbidden"


async def test_allowed_domains_are_checked_against_the_verified_email(sso):
    await store(sso, allowed_domains=["example.org"])
    assert "outside" in str((await refused(sso, "erin"))["error"])  # erin@elsewhere.net
    assert "no verified email" in str((await refused(sso, "ada.l"))["error"])  # no email claim
    assert await user_count(sso) == 0
    assert (await sign_in(sso, "alice"))["token"]  # alice@example.org
    assert await user_count(sso) == 1


async def test_under_invite_a_sign_in_started_from_an_invitation_makes_the_account_and_uses_the_code(sso):
    await sign_in(sso, "alice")  # the owner, made while registration was open
    owner = (await sign_in(sso, "alice"))["token"]
    await store(sso, registration="invite")
    made = await sso.http.post("/api/invites", headers=bearer(owner), json={"topics": []})
    assert made.status_code == 201, made.text
    code = made.json()["code"]

    assert (await sign_in(sso, "ada.l", invite=code))["token"]

    assert await user_count(sso) == 2
    listed = (await sso.http.get("/api/invites", headers=bearer(owner))).json()["invites"]
    assert [invite["uses_left"] for invite in listed] == [0]
    async with browser_client() as client:  # used up: the next new identity is refused
        answer = await client.get(await callback_url(client, sso.url, "erin", invite=code))
    assert_error(answer, 422, "invalid")
    assert await user_count(sso) == 2


async def test_an_invitation_code_too_long_is_refused_before_the_provider(sso):
    async with browser_client() as client:
        answer = await client.get(f"{sso.url}/api/auth/oidc/login", params={"invite": "x" * 129})
    assert_error(answer, 422, "invalid")
    assert await user_count(sso) == 0
