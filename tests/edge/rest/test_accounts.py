"""Accounts over REST (PROTOCOL.md section 6): register, login, profiles, logout."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import jwt
import pytest
import pytest_asyncio
from sqlalchemy import delete

from db.models import Membership, User
from tests.contract import assert_error, utc
from tests.support import JWT_SECRET, PASSWORD, LiveServer, bearer, running, user_count
from tests.support import test_settings as make_settings

# One server for the module (``server``), each test with its own names (``names``); the tests of
# the rate limits, which spend the address's budget or set their own, start a server each.
SHARED = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    async with running(make_settings(tmp_path_factory.mktemp("accounts") / "data")) as live:
        yield live


class Names:
    """``names.alice`` is ``alice-<suffix>``, one suffix a test: its own accounts."""

    def __init__(self) -> None:
        self.suffix = uuid.uuid4().hex[:6]

    def __getattr__(self, name: str) -> str:
        return f"{name}-{self.suffix}"


@pytest.fixture
def names() -> Names:
    return Names()


@SHARED
async def test_register_answers_201_with_the_user_and_a_working_token(server, names):
    before = await user_count(server)
    response = await server.http.post("/api/users", json={"username": names.alice, "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert body["user"] == {"username": names.alice}
    assert isinstance(body["token"], str)
    me = await server.http.get("/api/users/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["username"] == names.alice
    assert await user_count(server) == before + 1


@SHARED
async def test_register_keeps_the_username_as_given(server, names):
    response = await server.http.post(
        "/api/users", json={"username": f"Alice.B-2_{names.suffix}", "password": PASSWORD}
    )
    assert response.status_code == 201
    assert response.json()["user"] == {"username": f"Alice.B-2_{names.suffix}"}


@SHARED
async def test_a_username_taken_in_another_case_is_409_conflict_and_stores_nothing(server, names):
    before = await user_count(server)
    await server.register(names.alice)
    response = await server.http.post(
        "/api/users", json={"username": names.alice.upper(), "password": PASSWORD}
    )
    assert_error(response, 409, "conflict")
    assert await user_count(server) == before + 1


@SHARED
async def test_concurrent_sign_ups_of_one_name_in_two_cases_store_one_user(server, names):
    before = await user_count(server)
    responses = await asyncio.gather(
        server.http.post("/api/users", json={"username": names.carol, "password": PASSWORD}),
        server.http.post("/api/users", json={"username": names.carol.upper(), "password": PASSWORD}),
    )
    assert sorted(response.status_code for response in responses) == [201, 409]
    assert await user_count(server) == before + 1


@SHARED
async def test_login_answers_200_with_a_token_and_its_expiry(server, names):
    await server.register(names.alice)
    response = await server.http.post("/api/auth/login", json={"username": names.alice, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert {"token", "expires_at"} <= set(body)
    claims = jwt.decode(body["token"], JWT_SECRET, algorithms=["HS256"])
    async with server.chat.db.read() as repos:
        alice = await repos.users.by_name(names.alice)
    assert alice is not None and claims["sub"] == str(alice.id)  # the account id, never the name
    assert claims["exp"] - claims["iat"] == 15 * 60  # short: the refresh cookie renews it
    assert claims["exp"] == int(utc(body["expires_at"]).timestamp())
    me = await server.http.get("/api/users/me", headers=bearer(body["token"]))
    assert me.json()["username"] == names.alice


@SHARED
async def test_login_matches_the_username_in_any_case(server, names):
    await server.register(f"Alice-{names.suffix}")
    response = await server.http.post(
        "/api/auth/login", json={"username": f"aLICE-{names.suffix}", "password": PASSWORD}
    )
    assert response.status_code == 200
    me = await server.http.get("/api/users/me", headers=bearer(response.json()["token"]))
    assert me.json()["username"] == f"Alice-{names.suffix}"


@SHARED
async def test_a_wrong_password_and_an_unknown_user_get_the_same_401(server, names):
    await server.register(names.alice)
    wrong_password = await server.http.post(
        "/api/auth/login", json={"username": names.alice, "password": "not-the-password"}
    )
    unknown_user = await server.http.post(
        "/api/auth/login", json={"username": "nobody", "password": PASSWORD}
    )
    assert_error(wrong_password, 401, "unauthorized")
    assert unknown_user.status_code == wrong_password.status_code
    assert unknown_user.json() == wrong_password.json()


@SHARED
async def test_a_login_password_over_72_bytes_is_401_even_when_it_starts_with_the_password(server, names):
    password = "p" * 72
    await server.register(names.alice, password)
    too_long = await server.http.post(
        "/api/auth/login", json={"username": names.alice, "password": password + "x" * 8}
    )
    assert_error(too_long, 401, "unauthorized")
    right = await server.http.post("/api/auth/login", json={"username": names.alice, "password": password})
    assert right.status_code == 200


@SHARED
async def test_a_multibyte_password_counts_bytes_and_logs_in(server, names):
    password = "é" * 25  # 25 characters, 50 bytes
    await server.register(names.alice, password)
    response = await server.http.post("/api/auth/login", json={"username": names.alice, "password": password})
    assert response.status_code == 200


PROFILE = {
    "username",
    "display_name",
    "avatar",
    "title",
    "timezone",
    "status",
    "availability",
    "last_seen",
    "bot",
    "created_at",
    "online",
    "role",  # PROTOCOL.md section 19
}


@SHARED
async def test_me_is_the_profile_of_the_token_owner(server, names):
    before = datetime.now(UTC).replace(microsecond=0)
    token = await server.register(names.alice)
    response = await server.http.get("/api/users/me", headers=bearer(token))
    assert response.status_code == 200
    profile = response.json()
    assert set(profile) == PROFILE  # PROTOCOL.md section 14's Profile (and ``online``, as before it)
    assert profile["username"] == names.alice
    assert profile["online"] is False and profile["availability"] == "offline"
    assert profile["last_seen"] is None
    assert before <= utc(profile["created_at"]) <= datetime.now(UTC)


@SHARED
async def test_a_profile_shows_presence_only_to_someone_sharing_a_conversation(server, names):
    token = await server.register(names.alice)
    stranger = await server.register(names.carol)
    await server.user(names.bobby)
    opened = await server.http.post(
        "/api/conversations", json={"recipient": names.bobby}, headers=bearer(token)
    )
    assert opened.status_code in (200, 201), opened.text

    response = await server.http.get(f"/api/users/{names.bobby.upper()}", headers=bearer(token))
    hidden = await server.http.get(f"/api/users/{names.bobby}", headers=bearer(stranger))

    assert response.status_code == 200 and hidden.status_code == 200
    profile = response.json()
    assert set(profile) == PROFILE
    assert profile["username"] == names.bobby
    assert profile["online"] is True and profile["availability"] == "online"
    assert hidden.json() == {**profile, "online": None, "last_seen": None, "availability": None}


@SHARED
async def test_the_profile_of_an_unknown_user_is_404_not_found(server, names):
    token = await server.register(names.alice)
    response = await server.http.get("/api/users/ghost", headers=bearer(token))
    assert_error(response, 404, "not_found")


@SHARED
async def test_logout_answers_204_and_ends_the_current_session(server, names):
    """PROTOCOL.md section 19: a login's token belongs to its session, and logout ends that one;
    the sign-up's session (another device) stays."""
    registered = await server.register(names.alice)
    logged_in = (
        await server.http.post("/api/auth/login", json={"username": names.alice, "password": PASSWORD})
    ).json()["token"]
    response = await server.http.post("/api/auth/logout", headers=bearer(logged_in))
    assert response.status_code == 204
    assert response.content == b""
    refused = await server.http.get("/api/users/me", headers=bearer(logged_in))
    assert_error(refused, 401, "token_revoked")
    assert (await server.http.get("/api/users/me", headers=bearer(registered))).status_code == 200


@SHARED
async def test_logout_with_a_token_of_no_session_revokes_every_earlier_token(server, names):
    """Section 6's revocation version: ``parley token``'s token belongs to no session."""
    registered = await server.register(names.alice)
    operators = (await server.chat.users.issue_token(names.alice)).token
    response = await server.http.post("/api/auth/logout", headers=bearer(operators))
    assert response.status_code == 204
    for token in (registered, operators):
        refused = await server.http.get("/api/users/me", headers=bearer(token))
        assert_error(refused, 401, "token_revoked")


@SHARED
async def test_after_logout_a_new_login_works(server, names):
    token = await server.register(names.alice)
    await server.http.post("/api/auth/logout", headers=bearer(token))
    response = await server.http.post("/api/auth/login", json={"username": names.alice, "password": PASSWORD})
    assert response.status_code == 200
    me = await server.http.get("/api/users/me", headers=bearer(response.json()["token"]))
    assert me.status_code == 200


@SHARED
async def test_logout_needs_a_token(server, names):
    server.http.cookies.clear()  # no refresh cookie either (a sign-up of another test set one)
    response = await server.http.post("/api/auth/logout")
    assert_error(response, 401, "unauthorized")


async def test_sign_ups_are_rate_limited_per_address_with_retry_after(tmp_path):
    async with running(make_settings(tmp_path / "data", register_per_hour=2)) as server:
        await server.register("alice")
        await server.register("bobby")
        response = await server.http.post("/api/users", json={"username": "carol", "password": PASSWORD})
        assert_error(response, 429, "rate_limited")
        assert 1 <= int(response.headers["retry-after"]) <= 1800  # one sign-up back every 30 min
        assert await user_count(server) == 2


async def test_wrong_passwords_lock_that_account_not_the_address(live_server):
    """200 wrong passwords for alice: 429 with Retry-After after ten; bob, same address, logs in.
    (A server of its own: they spend its address's budget of failed logins.)"""
    await live_server.register("alice")
    await live_server.register("bobby")
    wrong = {"username": "alice", "password": "not-the-password"}
    answers = [await live_server.http.post("/api/auth/login", json=wrong) for _ in range(200)]
    assert [a.status_code for a in answers[:10]] == [401] * 10
    assert {a.status_code for a in answers[10:]} == {429}
    assert_error(answers[-1], 429, "rate_limited")
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 90  # 10 per 15 min: one back every 90 s
    right = {"username": "alice", "password": PASSWORD}
    assert_error(await live_server.http.post("/api/auth/login", json=right), 429, "rate_limited")
    other = await live_server.http.post("/api/auth/login", json={"username": "bobby", "password": PASSWORD})
    assert other.status_code == 200, other.text


async def test_the_account_limit_is_per_name_in_any_case_and_for_unknown_names_too(tmp_path):
    settings = make_settings(tmp_path / "data", login_failures_per_account=2)
    async with running(settings) as server:
        await server.register("alice")
        for name in ("alice", "ALICE"):
            wrong = await server.http.post(
                "/api/auth/login", json={"username": name, "password": "nope-nope"}
            )
            assert_error(wrong, 401, "unauthorized")
        right = await server.http.post("/api/auth/login", json={"username": "Alice", "password": PASSWORD})
        assert_error(right, 429, "rate_limited")
        unknown = {"username": "ghost", "password": "x" * 8}
        for _ in range(2):
            ghost = await server.http.post("/api/auth/login", json=unknown)
            assert_error(ghost, 401, "unauthorized")
        ghost = await server.http.post("/api/auth/login", json=unknown)
        assert_error(ghost, 429, "rate_limited")


async def test_failed_logins_are_limited_per_address_and_successful_ones_are_not(tmp_path):
    async with running(make_settings(tmp_path / "data", login_per_hour=2)) as server:
        await server.register("alice")
        credentials = {"username": "alice", "password": PASSWORD}
        for _ in range(5):
            assert (await server.http.post("/api/auth/login", json=credentials)).status_code == 200
        for name in ("bobby", "carol"):
            wrong = await server.http.post(
                "/api/auth/login", json={"username": name, "password": "nope-nope"}
            )
            assert_error(wrong, 401, "unauthorized")
        response = await server.http.post("/api/auth/login", json=credentials)
        assert_error(response, 429, "rate_limited")
        assert 1 <= int(response.headers["retry-after"]) <= 1800


@SHARED
async def test_a_token_opens_only_its_own_account_not_a_new_one_with_the_same_name(server, names):
    old = await server.register(names.alice)
    async with server.chat.db.write() as repos:  # an operator deletes the account by hand
        alice = await repos.users.by_name(names.alice)
        assert alice is not None
        await repos.session.execute(delete(Membership).where(Membership.user_id == alice.id))
        await repos.session.execute(delete(User).where(User.id == alice.id))
    new = await server.register(names.alice)  # SQLite gives the freed id to the new row

    refused = await server.http.get("/api/users/me", headers=bearer(old))
    accepted = await server.http.get("/api/users/me", headers=bearer(new))

    assert_error(refused, 401, "token_revoked")  # its version is not the new account's
    assert accepted.status_code == 200
    same_id = [jwt.decode(token, JWT_SECRET, algorithms=["HS256"])["sub"] for token in (old, new)]
    assert same_id[0] == same_id[1]  # the case that binding to the id alone would miss
