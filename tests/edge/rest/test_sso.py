"""Single sign-on over HTTP against a real OpenID Connect provider (PROTOCOL.md section 14).

The provider is ``oidc-provider`` from npm (tests/sso_support.py); a test walks the browser's
part with httpx, following each redirect by hand, so that it can replay or alter any step. No
mock: Parley discovers the provider, exchanges the code at its token endpoint and checks the ID
token against its published keys, as in production.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from db.models import Identity, LoginCode, OidcFlow, User, UserWord
from server.config import Settings
from tests.contract import assert_error
from tests.sso_support import (
    CALLBACK,
    CLIENT_ID,
    Provider,
    adapter,
    browser_client,
    callback_url,
    one_time_code,
    query_of,
    sign_in,
    sso_settings,
    start,
    through_provider,
)
from tests.support import PASSWORD, LiveServer, bearer, count, running_on, user_count

pytestmark = pytest.mark.both_databases  # identities and one-time codes on SQLite and PostgreSQL


@pytest.fixture
def settings(tmp_path: Path, oidc: Provider) -> Settings:
    """``live_server``'s settings: single sign-on with the test's provider."""
    return sso_settings(tmp_path / "data", oidc.issuer)


async def me(live: LiveServer, token: str) -> dict[str, object]:
    response = await live.http.get("/api/users/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    found: dict[str, object] = response.json()
    return found


async def test_a_sign_in_makes_an_account_linked_to_the_provider_user_and_finds_it_again(sso):
    async with browser_client() as client:
        authorize = await start(client, sso.url)
        asked = query_of(authorize)
        assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
        assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
        assert asked["redirect_uri"] == f"{sso.url}{CALLBACK}"
        assert asked["state"] and asked["nonce"] and set(asked["scope"].split()) >= {"openid", "profile"}
        async with sso.chat.db.read() as repos:
            [flow] = (await repos.session.execute(select(OidcFlow))).scalars().all()
        assert flow.state == asked["state"] and flow.verifier not in authorize  # only its challenge
        code = await one_time_code(client, await through_provider(client, authorize, "alice"))
    assert await count(sso, OidcFlow) == 0  # taken by the callback
    async with sso.chat.db.read() as repos:
        [stored] = (await repos.session.execute(select(LoginCode))).scalars().all()
    assert stored.code_hash != code and code not in stored.code_hash  # only its SHA-256 is kept
    answer = await sso.http.post("/api/auth/oidc/token", json={"code": code})
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"token", "expires_at"}
    assert (await me(sso, answer.json()["token"]))["username"] == "alice"

    again = await sign_in(sso, "alice")  # the same provider user: the same account, no new one
    assert (await me(sso, again["token"]))["username"] == "alice"
    assert await user_count(sso) == 1
    async with sso.chat.db.read() as repos:
        [link] = (await repos.session.execute(select(Identity))).scalars().all()
        user = (await repos.session.execute(select(User))).scalar_one()
    assert (link.issuer, link.subject, link.user_id) == (adapter(sso).issuer, "alice", user.id)
    assert user.display_name == "Alice Liddell"


async def test_an_existing_local_user_of_the_same_name_is_never_taken_over(sso):
    local = await sso.register("alice")
    token = (await sign_in(sso, "alice"))["token"]
    assert (await me(sso, token))["username"] == "alice2"
    assert (await me(sso, local))["username"] == "alice"  # the local account's token still holds
    login = await sso.http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert login.status_code == 200
    assert await user_count(sso) == 2


async def test_two_first_sign_ins_of_one_provider_user_at_once_make_one_account(sso):
    async with browser_client() as one, browser_client() as two:
        links = [await callback_url(one, sso.url, "alice"), await callback_url(two, sso.url, "alice")]
        answers = await asyncio.gather(one.get(links[0]), two.get(links[1]))
    assert [answer.status_code for answer in answers] == [302, 302]
    assert await user_count(sso) == 1 and await count(sso, Identity) == 1


async def test_usernames_are_made_valid_and_display_names_clean(sso):
    made = {}
    for login in ("ada.l", "carol", "dora"):
        made[login] = (await me(sso, (await sign_in(sso, login))["token"]))["username"]
    # an email's local part; a name's letters without accents; a name too short, lengthened
    assert made == {"ada.l": "ada.lovelace", "carol": "Carol_Unal", "dora": "x_user"}
    async with sso.chat.db.read() as repos:
        users = {u.username: u for u in (await repos.session.execute(select(User))).scalars()}
        words = {w.word for w in (await repos.session.execute(select(UserWord))).scalars()}
    assert users["Carol_Unal"].display_name == "Carol Ünal"  # no bidi override, no control character
    assert users["ada.lovelace"].display_name == "Ada Lovelace"
    assert {"ada.lovelace", "lovelace", "carol_unal", "unal"} <= words  # found in the directory


async def test_a_wrong_state_is_401_and_makes_no_account(sso):
    async with browser_client() as client:
        callback = await callback_url(client, sso.url, "alice")
        parts = query_of(callback)
        for state in (secrets.token_urlsafe(32), "", None, "x" * 500):
            changed = {**parts, "state": state} if state is not None else {"code": parts["code"]}
            response = await client.get(f"{sso.url}{CALLBACK}?{urlencode(changed)}")
            assert_error(response, 401, "unauthorized")
        assert await user_count(sso) == 0
        assert (await client.get(callback)).status_code == 302  # the real state still works once
        replayed = await client.get(callback)
        assert_error(replayed, 401, "unauthorized")  # a replayed callback: its state is gone
    assert await user_count(sso) == 1


async def test_a_callback_link_made_in_another_browser_is_refused(sso):
    """Login CSRF: someone's callback link, opened by a victim, must not sign the victim in."""
    async with browser_client() as attacker:
        link = await callback_url(attacker, sso.url, "alice")
        async with browser_client() as victim:
            assert_error(await victim.get(link), 401, "unauthorized")
            await start(victim, sso.url)  # even with a sign-in of the victim's own under way
            assert_error(await victim.get(link), 401, "unauthorized")
        assert await user_count(sso) == 0
        assert (await attacker.get(link)).status_code == 302  # where it was started, it works


async def test_a_browser_sent_back_with_a_bad_state_lands_on_the_page_with_an_error(sso):
    response = await sso.http.get(
        f"{CALLBACK}?state=nothing&code=nothing", headers={"Sec-Fetch-Mode": "navigate"}
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/#oidc_error=unauthorized"


async def test_an_authorization_code_used_once_or_in_another_sign_in_is_refused(sso):
    async with browser_client() as client:
        first = await callback_url(client, sso.url, "alice")
        await one_time_code(client, first)  # the code is redeemed at the provider
        used = query_of(first)["code"]
        stolen_into = query_of(await start(client, sso.url))["state"]  # a new sign-in of its own
        replay = await client.get(f"{sso.url}{CALLBACK}?{urlencode({'state': stolen_into, 'code': used})}")
        assert_error(replay, 401, "unauthorized")

        unused = query_of(await callback_url(client, sso.url, "ada.l"))["code"]
        other = query_of(await start(client, sso.url))["state"]  # its PKCE verifier is not the code's
        injected = await client.get(f"{sso.url}{CALLBACK}?{urlencode({'state': other, 'code': unused})}")
        assert_error(injected, 401, "unauthorized")
    assert await user_count(sso) == 1  # alice only: ada.l's code was never accepted


async def test_the_provider_saying_no_is_401(sso):
    async with browser_client() as client:
        state = query_of(await start(client, sso.url))["state"]
        refused = await client.get(f"{sso.url}{CALLBACK}?state={state}&error=access_denied")
    assert_error(refused, 401, "unauthorized")
    assert await user_count(sso) == 0


async def test_a_one_time_code_is_good_once(sso):
    async with browser_client() as client:
        code = await one_time_code(client, await callback_url(client, sso.url, "alice"))
    first = await sso.http.post("/api/auth/oidc/token", json={"code": code})
    assert first.status_code == 200
    second = await sso.http.post("/api/auth/oidc/token", json={"code": code})
    assert_error(second, 401, "unauthorized")
    unknown = await sso.http.post("/api/auth/oidc/token", json={"code": secrets.token_urlsafe(32)})
    assert_error(unknown, 401, "unauthorized")
    assert await count(sso, LoginCode) == 0


async def test_a_rotated_signing_key_is_fetched_again_once(sso, oidc):
    await sign_in(sso, "alice")
    assert adapter(sso).keys.fetches == 1
    await sign_in(sso, "alice")
    assert adapter(sso).keys.fetches == 1  # the key set is kept
    await oidc.rotate()  # the provider signs with a new key and no longer publishes the old one
    token = (await sign_in(sso, "alice"))["token"]
    assert (await me(sso, token))["username"] == "alice"
    assert adapter(sso).keys.fetches == 2


async def test_a_disabled_account_cannot_sign_in(sso):
    await sign_in(sso, "alice")
    await sso.chat.accounts.disable("alice")
    async with browser_client() as client:
        refused = await client.get(await callback_url(client, sso.url, "alice"))
    assert_error(refused, 401, "unauthorized")


async def test_methods_name_the_provider_by_its_host(sso):
    response = await sso.http.get("/api/auth/methods")
    assert response.json() == {
        "password": True,
        "oidc": {"name": urlsplit(adapter(sso).issuer).hostname},
        "registration": "open",
    }


async def test_starting_sign_ins_is_rate_limited_per_address(tmp_path, oidc, database):
    """Each start writes a flow row before anyone signs in: an address gets a budget of them."""
    settings = sso_settings(tmp_path / "data", oidc.issuer, oidc_starts_per_hour=3)
    async with running_on(settings, database) as live, browser_client() as client:
        await oidc.configure(live.url)
        for _ in range(3):
            await start(client, live.url)

        refused = await client.get(f"{live.url}/api/auth/oidc/login")
        navigated = await client.get(
            f"{live.url}/api/auth/oidc/login", headers={"Sec-Fetch-Mode": "navigate"}
        )

        assert_error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 1200  # one start back every 20 min
        assert navigated.status_code == 302 and navigated.headers["location"] == "/#oidc_error=rate_limited"
        assert await count(live, OidcFlow) == 3  # a refused start writes nothing


async def test_pending_sign_ins_are_bounded_and_the_oldest_is_dropped(tmp_path, oidc, database):
    settings = sso_settings(tmp_path / "data", oidc.issuer, oidc_pending_flows=3)
    async with running_on(settings, database) as live, browser_client() as client:
        await oidc.configure(live.url)
        authorizations = [await start(client, live.url) for _ in range(5)]

        assert await count(live, OidcFlow) == 3
        async with live.chat.db.read() as repos:
            kept = {flow.state for flow in (await repos.session.execute(select(OidcFlow))).scalars()}
        assert kept == {query_of(url)["state"] for url in authorizations[2:]}  # the newest three
        callback = await through_provider(client, authorizations[-1], "alice")  # the cookie's: the last
        assert (await client.get(callback)).status_code == 302  # a kept sign-in still finishes
        assert await count(live, OidcFlow) == 2
