"""Bad input over REST: 422 ``invalid`` (or the login 401), and nothing stored.

One server serves the whole table (module scope) because no bad request may
change it; each case compares the user count before and after itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.contract import assert_error
from tests.support import PASSWORD, LiveServer, running, user_count
from tests.support import test_settings as make_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

JSON = {"content-type": "application/json"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("bad-input") / "data"
    # Many cases here are failed logins of alice: keep her account budget (D7) out of the way.
    async with running(make_settings(data_dir, login_failures_per_account=10_000)) as live:
        await live.register("alice")
        yield live


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


# Requests that are wrong for both endpoints: the shape or the types.
MALFORMED = [
    pytest.param(body({"password": PASSWORD}), JSON, id="missing-username"),
    pytest.param(body({"username": "alice"}), JSON, id="missing-password"),
    pytest.param(body({}), JSON, id="empty-object"),
    pytest.param(body({"username": 12345, "password": PASSWORD}), JSON, id="integer-username"),
    pytest.param(body({"username": None, "password": PASSWORD}), JSON, id="null-username"),
    pytest.param(body({"username": ["alice"], "password": PASSWORD}), JSON, id="list-username"),
    pytest.param(body({"username": "alice", "password": [PASSWORD]}), JSON, id="list-password"),
    pytest.param(body({"username": "alice", "password": None}), JSON, id="null-password"),
    pytest.param(body({"username": "alice", "password": 12345678}), JSON, id="integer-password"),
    pytest.param(body({"username": "alice", "password": True}), JSON, id="boolean-password"),
    pytest.param(body({"username": "a" * 10_000, "password": PASSWORD}), JSON, id="10kB-username"),
    pytest.param(b"username=alice&password=password123", JSON, id="non-json-body"),
    pytest.param(b'{"username": "alice", "password": ', JSON, id="truncated-json"),
    pytest.param(b"", JSON, id="empty-json-body"),
    pytest.param(b"", {}, id="empty-body-no-content-type"),
    pytest.param(body([{"username": "alice", "password": PASSWORD}]), JSON, id="json-array"),
    pytest.param(body(None), JSON, id="json-null"),
    pytest.param(body("alice"), JSON, id="json-string"),
]

# Well-formed JSON whose values registration refuses.
BAD_REGISTRATION_VALUES = [
    pytest.param({"username": "ab", "password": PASSWORD}, id="username-2-chars"),
    pytest.param({"username": "a" * 33, "password": PASSWORD}, id="username-33-chars"),
    pytest.param({"username": "", "password": PASSWORD}, id="empty-username"),
    pytest.param({"username": "bad name", "password": PASSWORD}, id="username-with-space"),
    pytest.param({"username": "ali/ce", "password": PASSWORD}, id="username-with-slash"),
    pytest.param({"username": "al!ce", "password": PASSWORD}, id="username-with-bang"),
    pytest.param({"username": "@alice", "password": PASSWORD}, id="username-with-at"),
    pytest.param({"username": "ünïcode", "password": PASSWORD}, id="non-ascii-username"),
    pytest.param({"username": "alice\n", "password": PASSWORD}, id="username-trailing-newline"),
    pytest.param({"username": "bobby", "password": "x" * 7}, id="password-7-bytes"),
    pytest.param({"username": "bobby", "password": ""}, id="empty-password"),
    pytest.param({"username": "bobby", "password": "x" * 73}, id="password-73-bytes"),
    pytest.param({"username": "bobby", "password": "x" * 80}, id="password-80-bytes"),
    pytest.param({"username": "bobby", "password": "é" * 37}, id="password-37-chars-74-bytes"),
    pytest.param({"username": "bobby", "password": "é" * 3 + "x"}, id="password-4-chars-7-bytes"),
]

# Well-formed logins that cannot match any account: the same 401 as a wrong password.
IMPOSSIBLE_LOGINS = [
    pytest.param({"username": "ab", "password": PASSWORD}, id="username-2-chars"),
    pytest.param({"username": "bad name", "password": PASSWORD}, id="username-with-space"),
    pytest.param({"username": "alice", "password": "x" * 7}, id="password-7-bytes"),
    pytest.param({"username": "alice", "password": "x" * 80}, id="password-80-bytes"),
    pytest.param({"username": "alice", "password": PASSWORD + "x" * 70}, id="password-over-72-bytes"),
    pytest.param({"username": "alice", "password": "é" * 37}, id="password-74-bytes-multibyte"),
]

# Registrations at the edges of the rules: accepted.
GOOD_REGISTRATIONS = [
    pytest.param("abc", PASSWORD, id="username-3-chars"),
    pytest.param("b" * 32, PASSWORD, id="username-32-chars"),
    pytest.param("A.b-c_9", PASSWORD, id="username-every-kind-of-char"),
    pytest.param("pw8bytes", "x" * 8, id="password-8-bytes"),
    pytest.param("pw72bytes", "x" * 72, id="password-72-bytes"),
    pytest.param("pw4chars", "é" * 4, id="password-4-chars-8-bytes"),
    pytest.param("pw25chars", "é" * 25, id="password-25-chars-50-bytes"),
    pytest.param("pw36chars", "é" * 36, id="password-36-chars-72-bytes"),
]


@pytest.mark.parametrize(("content", "headers"), MALFORMED)
async def test_a_malformed_registration_is_422_invalid_and_stores_nothing(server, content, headers):
    before = await user_count(server)
    response = await server.http.post("/api/users", content=content, headers=headers)
    assert_error(response, 422, "invalid")
    assert await user_count(server) == before


@pytest.mark.parametrize("payload", BAD_REGISTRATION_VALUES)
async def test_a_registration_breaking_the_name_or_password_rules_is_422_invalid(server, payload):
    before = await user_count(server)
    response = await server.http.post("/api/users", json=payload)
    assert_error(response, 422, "invalid")
    assert await user_count(server) == before


@pytest.mark.parametrize(("content", "headers"), MALFORMED)
async def test_a_malformed_login_is_422_invalid(server, content, headers):
    before = await user_count(server)
    response = await server.http.post("/api/auth/login", content=content, headers=headers)
    assert_error(response, 422, "invalid")
    assert await user_count(server) == before


@pytest.mark.parametrize("payload", IMPOSSIBLE_LOGINS)
async def test_a_login_that_cannot_match_is_the_same_401_as_a_wrong_password(server, payload):
    wrong = await server.http.post("/api/auth/login", json={"username": "alice", "password": "wrong-pass"})
    response = await server.http.post("/api/auth/login", json=payload)
    assert_error(response, 401, "unauthorized")
    assert response.json() == wrong.json()


@pytest.mark.parametrize(("username", "password"), GOOD_REGISTRATIONS)
async def test_a_registration_at_the_edge_of_the_rules_is_accepted_and_can_log_in(server, username, password):
    before = await user_count(server)
    response = await server.http.post("/api/users", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    assert await user_count(server) == before + 1
    login = await server.http.post("/api/auth/login", json={"username": username, "password": password})
    assert login.status_code == 200, login.text


async def test_an_invalid_message_names_the_offending_field(server):
    response = await server.http.post("/api/users", json={"username": "bobby", "password": "short"})
    assert "password" in assert_error(response, 422, "invalid")["error"]["message"]
    response = await server.http.post("/api/users", json={"username": "b b", "password": PASSWORD})
    assert "username" in assert_error(response, 422, "invalid")["error"]["message"]


# Values no database column can hold: 422 ``invalid``, never a 500 from the driver ----------

SURROGATE = b'"a\\ud800b"'  # valid JSON text, but no UTF-8 encoding exists for it
TOO_BIG = 2**63


@pytest.mark.parametrize(
    ("path", "content"),
    [
        pytest.param(
            "/api/users",
            b'{"username": "surro", "password": ' + SURROGATE[:-1] + b'12345678"}',
            id="register",
        ),
        pytest.param("/api/auth/login", b'{"username": "alice", "password": ' + SURROGATE + b"}", id="login"),
    ],
)
async def test_a_password_with_a_lone_surrogate_is_422_invalid(server, path, content):
    before = await user_count(server)
    response = await server.http.post(path, content=content, headers=JSON)
    assert_error(response, 422, "invalid")
    assert await user_count(server) == before


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        pytest.param("PUT", f"/api/messages/{TOO_BIG}", {"body": "x"}, id="edit-id"),
        pytest.param("DELETE", f"/api/messages/{TOO_BIG}", None, id="delete-id"),
        pytest.param("GET", f"/api/topics/lobby/messages?before_seq={TOO_BIG}", None, id="topic-before-seq"),
        pytest.param(
            "GET", f"/api/conversations/alice/messages?before_seq={TOO_BIG}", None, id="dm-before-seq"
        ),
        pytest.param("GET", f"/api/echo/history?before={TOO_BIG}", None, id="echo-before"),
        pytest.param(
            "POST", "/api/messages", {"topic": "lobby", "body": "x", "client_id": "a\x00b"}, id="nul-id"
        ),
        pytest.param(
            "POST", "/api/messages", {"topic": "lobby", "body": "\u200b\u2060"}, id="zero-width-body"
        ),
    ],
)
async def test_a_value_no_column_can_hold_is_422_invalid(server, method, path, payload):
    login = await server.http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    response = await server.http.request(method, path, json=payload, headers=headers)
    assert_error(response, 422, "invalid")


async def test_a_body_with_a_lone_surrogate_is_422_invalid_and_not_stored(server):
    login = await server.http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['token']}", **JSON}
    content = b'{"topic": "lobby", "body": ' + SURROGATE + b"}"
    response = await server.http.post("/api/messages", content=content, headers=headers)
    assert_error(response, 422, "invalid")
    history = await server.http.get("/api/topics/lobby/messages", headers=headers)
    assert history.json()["messages"] == []
