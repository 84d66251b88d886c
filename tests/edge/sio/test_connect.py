"""Socket.IO connection authentication (PROTOCOL.md section 1), with real python-socketio clients.

What python-socketio 5.x hands a refused client: ``connect()`` raises
``socketio.exceptions.ConnectionError("One or more namespaces failed to
connect: /")`` - the exception does NOT carry the code - and the client's
``connect_error`` handler receives the CONNECT_ERROR payload
``{"message": C, "data": {"code": C, "message": "..."}}`` (what the JS client
exposes as ``err.message`` / ``err.data``). The tests assert on that payload.

One server for the module (``server``); each test has its own users (``names``, and ``alice``:
``names.alice``'s token). The tests that count every socket or change a limit have their own.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import pytest_asyncio
import socketio

from tests.shared_server import Names, own_sockets, shared_server
from tests.support import JWT_SECRET, WAIT, LiveServer, running
from tests.support import test_settings as make_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

TRANSPORTS = [
    pytest.param(None, id="polling-then-websocket"),
    pytest.param(["websocket"], id="websocket-only"),
]


@dataclass
class Socket:
    """One client attempt: the client, what ``connect_error`` carried, the ``session`` it got."""

    sio: socketio.AsyncClient
    errors: list[Any] = field(default_factory=list)
    sessions: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    refusal: socketio.exceptions.ConnectionError | None = None

    async def session(self) -> Any:
        return await asyncio.wait_for(self.sessions.get(), WAIT)


@asynccontextmanager
async def socket(url: str, namespace: str = "/", **kwargs: Any) -> AsyncIterator[Socket]:
    """Try to connect; a refusal is recorded, not raised. Always disconnected afterwards."""
    attempt = Socket(socketio.AsyncClient(reconnection=False))

    async def on_error(data: Any) -> None:
        attempt.errors.append(data)

    async def on_session(data: Any) -> None:
        await attempt.sessions.put(data)

    attempt.sio.on("connect_error", on_error, namespace=namespace)
    attempt.sio.on("session", on_session, namespace=namespace)
    try:
        await attempt.sio.connect(url, namespaces=[namespace], wait_timeout=WAIT, **kwargs)
    except socketio.exceptions.ConnectionError as exc:
        attempt.refusal = exc
    try:
        yield attempt
    finally:
        if attempt.sio.connected:
            await attempt.sio.disconnect()


def assert_refused(attempt: Socket, code: str, namespace: str = "/") -> None:
    """Refused with ``connect_error``: message = code, data = {"code", "message"}; not connected."""
    assert attempt.refusal is not None, "the connection was accepted"
    assert attempt.refusal.args == (f"One or more namespaces failed to connect: {namespace}",)
    assert len(attempt.errors) == 1, attempt.errors
    error = attempt.errors[0]
    assert error["message"] == code
    assert set(error["data"]) == {"code", "message"}
    assert error["data"]["code"] == code
    assert isinstance(error["data"]["message"], str) and error["data"]["message"]
    assert attempt.sio.connected is False
    assert namespace not in attempt.sio.namespaces


def assert_session(session: Any, username: str) -> None:
    assert set(session) == {"user", "server_time"}
    assert session["user"] == {"username": username}
    text = session["server_time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)", text), text
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.utcoffset() == timedelta(0)
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)


def forged(secret: str = JWT_SECRET, algorithm: str = "HS256", **overrides: Any) -> str:
    """Built when the tests are collected, so it lives a day: a full run takes well over ten minutes."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "1", "iat": now, "exp": now + 86_400, "ver": 0}
    claims.update(overrides)
    return jwt.encode(claims, secret, algorithm=algorithm)


# A user id no test's server reaches: a token for it names nobody.
NOBODY = str(2**31 - 1)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest.fixture
def names() -> Names:
    return Names()


@pytest_asyncio.fixture(loop_scope="module")
async def alice(live_server, names) -> str:  # type: ignore[no-untyped-def]
    """``names.alice``'s token."""
    return await live_server.register(names.alice)


# Accepted ----------------------------------------------------------------------


@pytest.mark.parametrize("transports", TRANSPORTS)
async def test_a_token_in_the_auth_payload_connects_and_gets_session(live_server, names, alice, transports):
    async with socket(live_server.url, auth={"token": alice}, transports=transports) as attempt:
        assert attempt.refusal is None
        assert_session(await attempt.session(), names.alice)


@pytest.mark.parametrize("transports", TRANSPORTS)
async def test_a_token_in_the_query_string_connects_and_gets_session(live_server, names, alice, transports):
    async with socket(f"{live_server.url}?token={alice}", transports=transports) as attempt:
        assert attempt.refusal is None
        assert_session(await attempt.session(), names.alice)


@pytest.mark.parametrize("transports", TRANSPORTS)
async def test_a_bearer_header_connects_and_gets_session(live_server, names, alice, transports):
    headers = {"Authorization": f"Bearer {alice}"}
    async with socket(live_server.url, headers=headers, transports=transports) as attempt:
        assert attempt.refusal is None
        assert_session(await attempt.session(), names.alice)


async def test_the_session_names_the_user_as_registered(live_server, names):
    token = await live_server.register(names.Alice)
    async with socket(live_server.url, auth={"token": token}) as attempt:
        assert_session(await attempt.session(), names.Alice)


async def test_a_connected_socket_makes_its_user_online(live_server, names, alice):
    async with socket(live_server.url, auth={"token": alice}) as attempt:
        await attempt.session()
        profile = await live_server.http.get(
            f"/api/users/{names.alice}", headers={"Authorization": f"Bearer {alice}"}
        )
        assert profile.json()["online"] is True


# First match wins: auth payload, then query string, then header -----------------


async def test_a_bad_auth_token_is_not_rescued_by_a_good_header(live_server, alice):
    headers = {"Authorization": f"Bearer {alice}"}
    async with socket(live_server.url, auth={"token": "garbage"}, headers=headers) as attempt:
        assert_refused(attempt, "unauthorized")


async def test_a_good_auth_token_wins_over_a_bad_header(live_server, names, alice):
    headers = {"Authorization": "Bearer garbage"}
    async with socket(live_server.url, auth={"token": alice}, headers=headers) as attempt:
        assert_session(await attempt.session(), names.alice)


async def test_a_bad_query_token_is_not_rescued_by_a_good_header(live_server, alice):
    headers = {"Authorization": f"Bearer {alice}"}
    async with socket(f"{live_server.url}?token=garbage", headers=headers) as attempt:
        assert_refused(attempt, "unauthorized")


async def test_a_good_auth_token_wins_over_a_bad_query_token(live_server, names, alice):
    async with socket(f"{live_server.url}?token=garbage", auth={"token": alice}) as attempt:
        assert_session(await attempt.session(), names.alice)


# Refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="no-token-at-all"),
        pytest.param({"auth": {}}, id="empty-auth"),
        pytest.param({"auth": {"token": ""}}, id="empty-auth-token"),
        pytest.param({"auth": {"token": 12345}}, id="non-string-auth-token"),
        pytest.param({"auth": {"token": "garbage"}}, id="garbage-auth-token"),
        pytest.param({"headers": {"Authorization": "Bearer garbage"}}, id="garbage-header"),
        pytest.param({"headers": {"Authorization": "Basic YWxpY2U6eA=="}}, id="basic-header"),
    ],
)
async def test_a_missing_or_garbage_token_is_refused_unauthorized(live_server, alice, kwargs):
    async with socket(live_server.url, **kwargs) as attempt:
        assert_refused(attempt, "unauthorized")


async def test_a_garbage_query_token_is_refused_unauthorized(live_server, alice):
    async with socket(f"{live_server.url}?token=garbage") as attempt:
        assert_refused(attempt, "unauthorized")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(forged(secret="x" * 40), id="another-secret"),
        pytest.param(jwt.encode({"sub": "1", "iat": 0, "exp": 2**40}, None, algorithm="none"), id="alg-none"),
        pytest.param(forged(sub=NOBODY), id="unknown-user"),
    ],
)
async def test_a_forged_token_is_refused_unauthorized(live_server, alice, token):
    async with socket(live_server.url, auth={"token": token}) as attempt:
        assert_refused(attempt, "unauthorized")


async def test_an_expired_token_is_refused_token_expired(live_server, alice):
    user = await live_server.chat.users.authenticate(alice)
    token, _ = live_server.chat.users.tokens.issue(user.id, 0, ttl_seconds=-30)
    async with socket(live_server.url, auth={"token": token}) as attempt:
        assert_refused(attempt, "token_expired")


async def test_a_token_from_before_logout_is_refused_token_revoked(live_server, names, alice):
    logout = await live_server.http.post("/api/auth/logout", headers={"Authorization": f"Bearer {alice}"})
    assert logout.status_code == 204
    async with socket(live_server.url, auth={"token": alice}) as attempt:
        assert_refused(attempt, "token_revoked")
    login = await live_server.http.post(
        "/api/auth/login", json={"username": names.alice, "password": "password123"}
    )
    async with socket(live_server.url, auth={"token": login.json()["token"]}) as attempt:
        assert_session(await attempt.session(), names.alice)


async def test_a_refused_socket_never_counts_as_connected_or_online(tmp_path):
    # A server of its own: the metric counts every socket the server holds.
    async with running(make_settings(tmp_path / "data")) as server:
        alice = await server.register("alice")
        async with socket(server.url, auth={"token": "garbage"}) as attempt:
            assert_refused(attempt, "unauthorized")
        async with socket(f"{server.url}?token={forged(sub='alice', secret='x' * 40)}") as attempt:
            assert_refused(attempt, "unauthorized")
        metrics = (await server.http.get("/metrics")).text
        assert not re.search(r'^parley_connected_sockets\{namespace="/"\} [1-9]', metrics, re.MULTILINE)
        profile = await server.http.get("/api/users/alice", headers={"Authorization": f"Bearer {alice}"})
        assert profile.json()["online"] is False


async def test_a_refused_socket_receives_no_session(live_server, alice):
    async with socket(live_server.url, auth={"token": "garbage"}) as attempt:
        assert_refused(attempt, "unauthorized")
        assert attempt.sessions.empty()


# The echo namespace authenticates the same way ----------------------------------


async def test_the_echo_namespace_accepts_the_same_token(live_server, alice):
    async with socket(live_server.url, namespace="/echo", auth={"token": alice}) as attempt:
        assert attempt.refusal is None
        answer = await attempt.sio.call("echo", {"ping": 1}, namespace="/echo", timeout=WAIT)
        assert answer == {"ping": 1}


@pytest.mark.parametrize(
    ("make_kwargs", "code"),
    [
        pytest.param(lambda _server, _token: {}, "unauthorized", id="missing"),
        pytest.param(lambda _server, _token: {"auth": {"token": "garbage"}}, "unauthorized", id="garbage"),
        pytest.param(
            lambda _server, _token: {"auth": {"token": forged(secret="x" * 40)}}, "unauthorized", id="forged"
        ),
        pytest.param(
            lambda server, _token: {"auth": {"token": server.chat.users.tokens.issue(1, 0, -30)[0]}},
            "token_expired",
            id="expired",
        ),
    ],
)
async def test_the_echo_namespace_refuses_the_same_way(live_server, alice, make_kwargs, code):
    async with socket(live_server.url, namespace="/echo", **make_kwargs(live_server, alice)) as attempt:
        assert_refused(attempt, code, namespace="/echo")


async def test_the_echo_namespace_refuses_a_revoked_token(live_server, alice):
    await live_server.http.post("/api/auth/logout", headers={"Authorization": f"Bearer {alice}"})
    async with socket(live_server.url, namespace="/echo", auth={"token": alice}) as attempt:
        assert_refused(attempt, "token_revoked", namespace="/echo")


# Connections per user -------------------------------------------------------------


async def open_connections(server: Any, username: str) -> int:
    """How many chat connections the sessions service counts for ``username`` right now."""
    async with server.chat.db.read() as repos:
        user = await repos.users.by_name(username)
    return int(server.chat.sessions.connections(user.id))


async def until_connections(server: Any, username: str, expected: int) -> None:
    """Wait for the count: a client's disconnect reaches the server after ``disconnect()`` returns."""
    deadline = time.monotonic() + WAIT
    while await open_connections(server, username) != expected:
        assert time.monotonic() < deadline, f"{username} still has another number of connections"
        await asyncio.sleep(0.01)


async def test_the_connection_over_the_per_user_limit_is_refused_rate_limited(tmp_path):
    async with running(make_settings(tmp_path / "data", max_connections_per_user=2)) as server:
        token = await server.register("alice")
        first = await server.connect("alice", token)
        await server.connect("alice", token)
        for _ in range(2):  # a refused connection is not counted
            async with socket(server.url, auth={"token": token}) as attempt:
                assert_refused(attempt, "rate_limited")
        assert await open_connections(server, "alice") == 2
        await server.user("bobby")  # another user is not affected
        await first.close()
        await until_connections(server, "alice", 1)
        async with socket(server.url, auth={"token": token}) as attempt:
            assert_session(await attempt.session(), "alice")
