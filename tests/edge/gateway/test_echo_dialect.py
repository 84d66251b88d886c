"""The echo dialect (PROTOCOL.md 7.3), spoken as the original FastAPI service's client speaks it.

REST under ``/compat/echo``: register (``username`` or ``login``), login (JSON or a form),
``echo_ws`` / ``pub_ws`` (absolute links with the token), ``history`` (the body of
``GET /api/echo/history``); every error ``{"detail": "<text>"}``. The echo WebSocket, opened with
the link as given: text frames come back in order, the transcript is stored on close; no valid
token closes 4401, a frame over the limit 1009, a binary frame 1003; past the rate limit or with a
failing upstream the answer is ``{"error": ...}`` and the socket stays open. Each refusal also
checks that nothing was stored and that no traceback was logged.

One server for the module (``server``); each test has its own users (``names``), so a count of
rows is compared with the same count before the test's own step. The tests that change a setting
have a server of their own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from db.models import EchoTranscript
from tests.edge.sio.logs import captured
from tests.edge.sio.test_echo import closed_port, upstream_server
from tests.shared_server import Names, own_sockets, shared_server
from tests.support import PASSWORD, WAIT, LiveServer, bearer, count, running, user_count
from tests.support import test_settings as settings_with

pytestmark = pytest.mark.asyncio(loop_scope="module")

BASE = "/compat/echo"
LIMIT = 64 * 1024  # PARLEY_MAX_HTTP_BUFFER_SIZE's default


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


async def register(live: LiveServer, username: str, field: str = "username") -> httpx.Response:
    return await live.http.post(f"{BASE}/register", json={field: username, "password": PASSWORD})


async def login(live: LiveServer, username: str, password: str = PASSWORD) -> str:
    response = await live.http.post(f"{BASE}/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def signed_up(live: LiveServer, username: str = "alice") -> str:
    """Register and log in through the dialect; the access token."""
    assert (await register(live, username)).status_code == 201
    return await login(live, username)


async def echo_url(live: LiveServer, token: str) -> str:
    response = await live.http.get(f"{BASE}/echo_ws", headers=bearer(token))
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


async def history(live: LiveServer, token: str, stored: int) -> list[dict[str, Any]]:
    """``GET /compat/echo/history`` once ``stored`` transcripts are there.

    The server stores a transcript after the closing handshake and no frame announces it, so this
    asks again until they are (bounded by WAIT).
    """
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        response = await live.http.get(f"{BASE}/history", headers=bearer(token))
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["transcripts"]
        if len(found) >= stored:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"{stored} transcripts expected, got {found}"
        await asyncio.sleep(0.02)


def assert_detail(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    for word in words:
        assert word in body["detail"], body


async def closed(ws: ClientConnection) -> tuple[int, str]:
    """The code and reason of the server's close, which must come before any other frame."""
    with pytest.raises(ConnectionClosedError) as info:
        await asyncio.wait_for(ws.recv(), WAIT)
    assert info.value.rcvd is not None, "the server did not close"
    return info.value.rcvd.code, info.value.rcvd.reason


def lines(transcript: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(line["from"], line["payload"]) for line in transcript["lines"]]


# Accounts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["username", "login"])
async def test_register_is_201_with_the_username_and_the_account_logs_in(
    live_server: LiveServer, names: Names, field: str
) -> None:
    response = await register(live_server, names.Alice, field)

    assert response.status_code == 201, response.text
    assert response.json() == {"username": names.Alice}
    token = await login(live_server, names.alice)  # names match in any case
    me = await live_server.http.get("/api/users/me", headers=bearer(token))
    assert me.json()["username"] == names.Alice


async def test_login_takes_json_or_a_form_and_answers_a_bearer_token(
    live_server: LiveServer, names: Names
) -> None:
    await register(live_server, names.alice)
    as_json = await live_server.http.post(
        f"{BASE}/login", json={"username": names.alice, "password": PASSWORD}
    )
    as_form = await live_server.http.post(  # as OAuth2PasswordRequestForm clients send it
        f"{BASE}/login", data={"grant_type": "password", "username": names.alice, "password": PASSWORD}
    )

    for response in (as_json, as_form):
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"access_token", "token_type"} and body["token_type"] == "bearer"
        me = await live_server.http.get("/api/users/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200


async def test_a_taken_name_is_400_naming_it_and_stores_nothing(
    live_server: LiveServer, names: Names
) -> None:
    await register(live_server, names.alice)
    users = await user_count(live_server)

    response = await register(live_server, names.ALICE, "login")

    assert_detail(response, 400, "taken", names.ALICE)
    assert await user_count(live_server) == users


@pytest.mark.parametrize(
    ("body", "named"),
    [
        pytest.param({"username": "bob", "password": "short"}, "password", id="weak-password"),
        pytest.param({"username": "bob", "password": "x" * 73}, "password", id="long-password"),
        pytest.param({"username": "b!", "password": PASSWORD}, "username", id="bad-name"),
        pytest.param({"password": PASSWORD}, "username", id="no-name"),
        pytest.param({"username": "bob", "password": 12345678}, "password", id="not-a-string"),
        pytest.param([], "JSON object", id="not-an-object"),
    ],
)
async def test_a_bad_registration_is_422_naming_the_problem_and_stores_nothing(
    live_server: LiveServer, body: Any, named: str
) -> None:
    users = await user_count(live_server)

    response = await live_server.http.post(f"{BASE}/register", json=body)

    assert_detail(response, 422, named)
    assert await user_count(live_server) == users


async def test_a_body_that_is_not_json_is_422(live_server: LiveServer) -> None:
    users = await user_count(live_server)
    for route in ("register", "login"):
        response = await live_server.http.post(
            f"{BASE}/{route}", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert_detail(response, 422, "not valid JSON")
    assert await user_count(live_server) == users


async def test_wrong_credentials_are_401_with_the_same_detail(live_server: LiveServer, names: Names) -> None:
    await register(live_server, names.alice)

    wrong_password = await live_server.http.post(
        f"{BASE}/login", data={"username": names.alice, "password": "not-the-password"}
    )
    no_such_user = await live_server.http.post(
        f"{BASE}/login", json={"username": names.nobody, "password": "x"}
    )

    assert_detail(wrong_password, 401, "wrong username or password")
    assert no_such_user.json() == wrong_password.json()
    assert wrong_password.headers["WWW-Authenticate"] == "Bearer"


async def test_too_many_failed_logins_are_429_with_retry_after(tmp_path: Path) -> None:
    async with running(settings_with(tmp_path / "data", login_failures_per_account=2)) as live:
        await register(live, "alice")
        wrong = {"username": "alice", "password": "not-the-password"}
        for _ in range(2):
            assert (await live.http.post(f"{BASE}/login", json=wrong)).status_code == 401

        refused = await live.http.post(f"{BASE}/login", json={"username": "alice", "password": PASSWORD})

    assert_detail(refused, 429, "too many")
    assert int(refused.headers["Retry-After"]) >= 1


# Links and history -------------------------------------------------------------------------------


async def test_the_links_are_absolute_with_the_callers_token(live_server: LiveServer, names: Names) -> None:
    token = await signed_up(live_server, names.alice)
    host = live_server.url.removeprefix("http://")

    for channel in ("echo", "pub"):
        response = await live_server.http.get(f"{BASE}/{channel}_ws", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json() == {"url": f"ws://{host}{BASE}/ws/{channel}?token={token}"}


async def test_the_links_take_the_requests_host_and_are_wss_behind_https(tmp_path: Path) -> None:
    async with running(settings_with(tmp_path / "data", trusted_proxies=["127.0.0.1"])) as live:
        token = await signed_up(live)
        headers = {**bearer(token), "Host": "chat.example", "X-Forwarded-Proto": "https"}

        response = await live.http.get(f"{BASE}/pub_ws", headers=headers)

    assert response.json() == {"url": f"wss://chat.example{BASE}/ws/pub?token={token}"}


async def test_routes_need_a_valid_bearer_token_401_detail(live_server: LiveServer, names: Names) -> None:
    token = await signed_up(live_server, names.alice)
    expired = (await live_server.chat.users.issue_token(names.alice, ttl_seconds=-30)).token
    refusals = {
        "missing": ({}, "Not authenticated"),
        "not a bearer": ({"Authorization": token}, "Not authenticated"),
        "bad": (bearer("not-a-jwt"), ""),
        "expired": (bearer(expired), "expired"),
    }
    for route in ("echo_ws", "pub_ws", "history"):
        for headers, word in refusals.values():
            response = await live_server.http.get(f"{BASE}/{route}", headers=headers)
            assert_detail(response, 401, word)
            assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_revoked_token_is_401_detail(live_server: LiveServer, names: Names) -> None:
    token = await signed_up(live_server, names.alice)
    assert (await live_server.http.post("/api/auth/logout", headers=bearer(token))).status_code == 204

    assert_detail(await live_server.http.get(f"{BASE}/history", headers=bearer(token)), 401, "logout")


async def test_history_pages_are_validated_422_detail(live_server: LiveServer, names: Names) -> None:
    token = await signed_up(live_server, names.alice)

    response = await live_server.http.get(f"{BASE}/history", params={"limit": 0}, headers=bearer(token))

    assert_detail(response, 422, "limit")


async def test_the_openapi_schema_documents_the_bodies_and_the_detail_errors(live_server: LiveServer) -> None:
    schema = (await live_server.http.get("/openapi.json")).json()
    paths = schema["paths"]

    assert set(paths[f"{BASE}/login"]["post"]["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    assert "requestBody" in paths[f"{BASE}/register"]["post"]
    for route, method, statuses in (
        ("register", "post", {"400", "422", "429", "500"}),
        ("login", "post", {"401", "422", "429", "500"}),
        ("echo_ws", "get", {"401", "500"}),
        ("pub_ws", "get", {"401", "500"}),
        ("history", "get", {"401", "422", "500"}),
    ):
        responses = paths[f"{BASE}/{route}"][method]["responses"]
        for status in statuses:
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["required"] == ["detail"]


# The echo WebSocket ------------------------------------------------------------------------------


async def test_frames_come_back_in_order_and_the_transcript_is_the_api_history(
    live_server: LiveServer, names: Names
) -> None:
    token = await signed_up(live_server, names.alice)
    frames = ["one", "two", '{"three": 3}', "héllo ✓", " "]

    async with connect(await echo_url(live_server, token)) as ws:  # the link as given
        for frame in frames:
            await ws.send(frame)
        answers = [await asyncio.wait_for(ws.recv(), WAIT) for _ in frames]

    assert answers == frames
    [transcript] = await history(live_server, token, 1)
    assert lines(transcript) == [(side, frame) for frame in frames for side in ("client", "server")]
    api = await live_server.http.get("/api/echo/history", headers=bearer(token))
    assert (await live_server.http.get(f"{BASE}/history", headers=bearer(token))).json() == api.json()


async def test_each_socket_is_one_transcript_newest_first(live_server: LiveServer, names: Names) -> None:
    token = await signed_up(live_server, names.alice)
    for visit in ("first", "second"):
        async with connect(await echo_url(live_server, token)) as ws:
            await ws.send(visit)
            assert await ws.recv() == visit
        await history(live_server, token, 1 if visit == "first" else 2)

    found = await history(live_server, token, 2)

    assert [lines(t)[0][1] for t in found] == ["second", "first"]


async def test_without_a_valid_token_the_socket_closes_4401_and_nothing_is_stored(
    live_server: LiveServer, names: Names
) -> None:
    token = await signed_up(live_server, names.alice)
    transcripts = await count(live_server, EchoTranscript)
    expired = (await live_server.chat.users.issue_token(names.alice, ttl_seconds=-30)).token
    url = (await echo_url(live_server, token)).partition("?")[0]
    attempts = [(url, "unauthorized"), (f"{url}?token=not-a-jwt", "unauthorized")]
    attempts.append((f"{url}?token={expired}", "token_expired"))

    with captured("parley", "", "uvicorn") as logs:
        for attempt, reason in attempts:
            async with connect(attempt) as ws:
                assert await closed(ws) == (4401, reason)
        await live_server.http.post("/api/auth/logout", headers=bearer(token))
        async with connect(f"{url}?token={token}") as ws:
            assert await closed(ws) == (4401, "token_revoked")

    assert await count(live_server, EchoTranscript) == transcripts
    assert logs.tracebacks() == []


async def test_a_frame_over_the_limit_closes_1009_and_is_not_recorded(
    live_server: LiveServer, names: Names
) -> None:
    token = await signed_up(live_server, names.alice)
    at_the_limit = "é" * (LIMIT // 2)  # two bytes each in UTF-8

    with captured("parley", "", "uvicorn") as logs:
        async with connect(await echo_url(live_server, token), max_size=None) as ws:
            await ws.send(at_the_limit)
            assert await ws.recv() == at_the_limit
            await ws.send(at_the_limit + "x")
            assert await closed(ws) == (1009, "too_large")

    [transcript] = await history(live_server, token, 1)
    assert lines(transcript) == [("client", at_the_limit), ("server", at_the_limit)]
    assert logs.tracebacks() == []


async def test_a_binary_frame_closes_1003_and_is_not_recorded(live_server: LiveServer, names: Names) -> None:
    token = await signed_up(live_server, names.alice)

    with captured("parley", "", "uvicorn") as logs:
        async with connect(await echo_url(live_server, token)) as ws:
            await ws.send("text")
            assert await ws.recv() == "text"
            await ws.send(b"\x00binary")
            assert await closed(ws) == (1003, "invalid")

    [transcript] = await history(live_server, token, 1)
    assert lines(transcript) == [("client", "text"), ("server", "text")]
    assert logs.tracebacks() == []


async def test_past_the_rate_limit_frames_are_refused_and_the_socket_stays_open(tmp_path: Path) -> None:
    async with running(settings_with(tmp_path / "data", socket_burst=3, socket_rate=0.001)) as live:
        token = await signed_up(live)
        async with connect(await echo_url(live, token)) as ws:
            for n in range(5):
                await ws.send(f"frame {n}")
            answers = [await asyncio.wait_for(ws.recv(), WAIT) for _ in range(5)]
            await ws.close()
            assert ws.close_code == 1000  # closed by the client, normally: the server kept it open

        [transcript] = await history(live, token, 1)

    assert answers[:3] == ["frame 0", "frame 1", "frame 2"]
    for refused in answers[3:]:
        error = json.loads(refused)["error"]
        assert error["code"] == "rate_limited" and error["message"], refused
    assert [payload for side, payload in lines(transcript) if side == "client"] == answers[:3]


async def test_frames_go_through_the_configured_upstream(tmp_path: Path) -> None:
    received: list[Any] = []
    async with upstream_server(received) as upstream:
        async with running(settings_with(tmp_path / "data", echo_upstream=upstream)) as live:
            token = await signed_up(live)
            async with connect(await echo_url(live, token)) as ws:
                await ws.send("hello")
                answer = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            [transcript] = await history(live, token, 1)

    assert received == ["hello"]
    assert answer == {"upstream": "hello"}
    assert lines(transcript) == [("client", "hello"), ("server", {"upstream": "hello"})]


async def test_a_failing_upstream_is_an_error_frame_and_the_socket_stays_open(tmp_path: Path) -> None:
    upstream = f"ws://127.0.0.1:{closed_port()}"
    async with running(settings_with(tmp_path / "data", echo_upstream=upstream, echo_timeout=1.0)) as live:
        token = await signed_up(live)
        with captured("parley", "", "uvicorn") as logs:
            async with connect(await echo_url(live, token)) as ws:
                answers = []
                for frame in ("one", "two"):
                    await ws.send(frame)
                    answers.append(json.loads(await asyncio.wait_for(ws.recv(), WAIT)))
        [transcript] = await history(live, token, 1)

    for answer in answers:
        assert answer["error"]["code"] == "internal" and answer["error"]["message"], answer
    assert [side for side, _ in lines(transcript)] == ["client", "error", "client", "error"]
    assert logs.tracebacks() == []


async def test_a_socket_the_client_drops_still_stores_its_transcript(
    live_server: LiveServer, names: Names
) -> None:
    token = await signed_up(live_server, names.alice)
    ws = await connect(await echo_url(live_server, token))
    await ws.send("bye")
    assert await ws.recv() == "bye"

    ws.transport.abort()  # no closing handshake
    with pytest.raises(ConnectionClosed):
        await ws.recv()

    [transcript] = await history(live_server, token, 1)
    assert lines(transcript) == [("client", "bye"), ("server", "bye")]


async def test_a_logout_closes_the_echo_socket_4401_and_keeps_its_transcript(
    live_server: LiveServer, names: Names
) -> None:
    token = await signed_up(live_server, names.alice)
    async with connect(await echo_url(live_server, token)) as ws:
        await ws.send("before logout")
        assert await ws.recv() == "before logout"
        assert (await live_server.http.post("/api/auth/logout", headers=bearer(token))).status_code == 204
        assert await closed(ws) == (4401, "token_revoked")
    fresh = await login(live_server, names.alice)
    [transcript] = await history(live_server, fresh, 1)
    assert lines(transcript) == [("client", "before logout"), ("server", "before logout")]
