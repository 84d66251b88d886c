"""REST error shapes (PROTOCOL.md section 6): unknown routes and every kind of bad token."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
import pytest_asyncio

from tests.contract import assert_error
from tests.support import JWT_SECRET, LiveServer, bearer, running
from tests.support import test_settings as make_settings

# One server answers every case: none of them changes it (alice, user 1, is its only account).
pytestmark = pytest.mark.asyncio(loop_scope="module")

# Tokens built when the tests are collected must outlive a long run (the whole suite takes
# well over ten minutes on a busy machine): a day.
LIFETIME = 86_400


def forged(**overrides: Any) -> str:
    """An HS256 token for ``alice`` signed with the test secret; ``None`` drops a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "1", "iat": now, "exp": now + LIFETIME, "ver": 0}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, JWT_SECRET, algorithm="HS256")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    async with running(make_settings(tmp_path_factory.mktemp("errors") / "data")) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def alice(live_server) -> str:
    """Register alice (user 1), so that a refused token is refused for itself, not for a missing user."""
    return await live_server.register("alice")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nope"),
        ("GET", "/api/users/alice/friends"),
        ("HEAD", "/api/nope"),
        ("GET", "/no/such/page"),
    ],
)
async def test_an_unknown_route_is_404_not_found(live_server, method, path):
    response = await live_server.http.request(method, path)
    if method == "HEAD":
        assert response.status_code == 404
    else:
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/nope"), ("PUT", "/api/nope/1"), ("DELETE", "/x")]
)
async def test_an_unknown_route_is_404_not_found_whatever_the_method(live_server, method, path):
    response = await live_server.http.request(method, path)
    assert_error(response, 404, "not_found")


async def test_a_method_the_route_does_not_take_is_405_with_the_error_shape(live_server):
    response = await live_server.http.delete("/api/users")
    assert_error(response, 405, "invalid")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": ""}, id="empty-header"),
        pytest.param({"Authorization": "Bearer"}, id="bearer-without-token"),
        pytest.param({"Authorization": "Basic YWxpY2U6cGFzc3dvcmQxMjM="}, id="basic-auth"),
        pytest.param({"Authorization": "Bearer garbage"}, id="garbage"),
        pytest.param({"Authorization": "Bearer a.b.c"}, id="three-garbage-parts"),
    ],
)
async def test_a_missing_or_garbage_bearer_is_401_unauthorized(live_server, alice, headers):
    response = await live_server.http.get("/api/users/me", headers=headers)
    assert_error(response, 401, "unauthorized")


async def test_a_token_without_the_bearer_scheme_is_401_unauthorized(live_server, alice):
    response = await live_server.http.get("/api/users/me", headers={"Authorization": alice})
    assert_error(response, 401, "unauthorized")


async def test_the_bearer_scheme_is_case_insensitive(live_server, alice):
    response = await live_server.http.get("/api/users/me", headers={"Authorization": f"bearer {alice}"})
    assert response.status_code == 200


async def test_an_expired_token_is_401_token_expired(live_server, alice):
    token, _ = live_server.chat.users.tokens.issue(1, 0, ttl_seconds=-30)
    response = await live_server.http.get("/api/users/me", headers=bearer(token))
    assert_error(response, 401, "token_expired")


async def test_a_crafted_token_with_exp_in_the_past_is_401_token_expired(live_server, alice):
    now = int(time.time())
    response = await live_server.http.get(
        "/api/users/me", headers=bearer(forged(iat=now - 120, exp=now - 60))
    )
    assert_error(response, 401, "token_expired")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            jwt.encode({"sub": "1", "iat": 0, "exp": 2**40, "ver": 0}, "x" * 40, algorithm="HS256"),
            id="another-secret",
        ),
        pytest.param(
            jwt.encode({"sub": "1", "iat": 0, "exp": 2**40, "ver": 0}, None, algorithm="none"),
            id="alg-none",
        ),
        pytest.param(
            jwt.encode({"sub": "1", "iat": 0, "exp": 2**40, "ver": 0}, JWT_SECRET * 2, algorithm="HS512"),
            id="alg-hs512-same-secret",
        ),
        pytest.param(forged(exp=None), id="no-exp"),
        pytest.param(forged(iat=None), id="no-iat"),
        pytest.param(forged(sub=None), id="no-sub"),
        pytest.param(forged(exp=str(2**40)), id="string-exp"),
        pytest.param(forged(exp=2.0**40 + 0.5), id="float-exp"),
        pytest.param(forged(sub="99"), id="user-does-not-exist"),
        pytest.param(forged(sub="alice"), id="name-not-id"),
        pytest.param(forged(ver=None), id="no-version"),
        pytest.param(forged(exp=10**20), id="exp-past-year-9999"),
    ],
)
async def test_a_forged_or_malformed_token_is_401_unauthorized(live_server, alice, token):
    response = await live_server.http.get("/api/users/me", headers=bearer(token))
    assert_error(response, 401, "unauthorized")


async def test_every_authenticated_route_refuses_the_same_way(live_server, alice):
    for method, path in [("GET", "/api/topics"), ("GET", "/api/users/alice"), ("POST", "/api/auth/logout")]:
        response = await live_server.http.request(method, path, headers=bearer("garbage"))
        assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/api/users", {"GET", "POST"}),
        ("DELETE", "/api/users", {"GET", "POST"}),
        ("TRACE", "/api/topics", {"GET", "POST"}),
        ("TRACE", "/openapi.json", {"GET", "HEAD"}),
        ("PATCH", "/api/messages/1", {"PUT", "DELETE"}),
        ("TRACE", "/healthz", {"GET"}),
        ("TRACE", "/", {"GET", "HEAD"}),
        ("POST", "/index.html", {"GET", "HEAD"}),
        ("TRACE", "/vendor/socket.io-client/socket.io.esm.min.js", {"GET", "HEAD"}),
    ],
)
async def test_a_method_the_path_does_not_take_is_405_naming_the_allowed_ones(
    live_server, method, path, allowed
):
    response = await live_server.http.request(method, path)
    assert_error(response, 405, "invalid")
    assert {part.strip() for part in response.headers["allow"].split(",")} == allowed


async def test_an_undecodable_json_body_is_422_invalid(live_server, alice):
    for content in (b'{"name": ', b"\xff\xfe", b"{'name': 'x'}", b"\x80\x81 not UTF-8", b"\xed\xa0\x80"):
        response = await live_server.http.post(
            "/api/topics", content=content, headers={**bearer(alice), "content-type": "application/json"}
        )
        assert_error(response, 422, "invalid")
