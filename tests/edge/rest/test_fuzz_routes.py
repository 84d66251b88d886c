"""Hypothesis over every REST route (PROTOCOL.md 6): a documented status for any request.

For any JSON body (lone surrogates and non-JSON bytes included), odd path segments and query
values, every route answers 2xx or a documented error status with exactly
``{"error": {"code", "message"}}`` whose code fits the status; never a 5xx; a refusal stores
nothing; nothing logs a traceback. One server for the module; rate limits raised. The server
runs (uvicorn, its lifespan) as in every test, and the fuzzed requests go to its app in-process
(httpx's ASGI transport): the property is the app's answer, and a socket and an HTTP parser per
request only cost time; an exception the app lets out fails the test where it happens.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from db.models import EchoTranscript, Membership, Message, Topic, User
from tests import fuzz
from tests.edge.sio.logs import Records, captured
from tests.support import LiveServer, bearer, running
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")
TARGETED = 10  # examples for a property about one field (the profile sets the broad ones)

MODELS = (User, Topic, Membership, Message, EchoTranscript)
# Their row counts in one statement (one snapshot, one trip to the database per look).
ROWS = select(*(select(func.count()).select_from(model).scalar_subquery() for model in MODELS))
# Section 6 with section 2's codes; 405 is Starlette's for a known path and another method.
CODES_BY_STATUS = {
    401: {"unauthorized", "token_expired", "token_revoked"},
    403: {"forbidden"},
    404: {"not_found"},
    405: {"invalid"},
    409: {"conflict"},
    413: {"too_large"},
    422: {"invalid"},
    429: {"rate_limited"},
}
SUCCESS = {200, 201, 204}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # at most one {segment}
    segment: str | None = None  # its kind (tests/fuzz.py)
    body: dict[str, str] | None = None  # key -> kind; None: the route reads no body
    query: dict[str, str] = field(default_factory=dict)
    auth: bool = True

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


PAGE = {"before_seq": "int", "limit": "int"}
ROUTES = [
    Route("POST", "/api/users", body={"username": "user", "password": "password"}, auth=False),
    Route("POST", "/api/auth/login", body={"username": "user", "password": "password"}, auth=False),
    # PROTOCOL.md section 14 (single sign-on is off on this server: its routes are 404)
    Route("GET", "/api/auth/methods", auth=False),
    Route("POST", "/api/auth/oidc/token", body={"code": "body"}, auth=False),
    Route(
        "GET", "/api/auth/oidc/callback", query={"state": "body", "code": "body", "error": "body"}, auth=False
    ),
    Route("GET", "/api/users/me"),
    Route("GET", "/api/users/{}", "user"),
    Route("GET", "/api/topics"),
    Route("POST", "/api/topics", body={"name": "topic", "private": "bool", "topic_name": "topic"}),
    Route("GET", "/api/topics/{}", "topic"),
    Route("GET", "/api/topics/{}/members", "topic"),
    Route("POST", "/api/topics/{}/subscribe", "topic"),
    Route("POST", "/api/topics/{}/unsubscribe", "topic"),
    Route("POST", "/api/topics/{}/invite", "topic", body={"username": "user"}),
    Route("GET", "/api/topics/{}/messages", "topic", query=PAGE),
    Route("POST", "/api/conversations", body={"recipient": "user"}),
    Route("GET", "/api/conversations"),
    Route("GET", "/api/conversations/{}/messages", "user", query=PAGE),
    Route(
        "POST",
        "/api/messages",
        body={"topic": "topic", "to": "user", "body": "body", "client_id": "client_id"},
    ),
    Route("PUT", "/api/messages/{}", "int", body={"body": "body"}),
    Route("DELETE", "/api/messages/{}", "int"),
    Route("GET", "/api/echo/history", query={"before": "int", "limit": "int"}),
    Route(
        "GET",
        "/api/search",
        query={"q": "body", "topic": "topic", "with": "user", "limit": "int", "cursor": "body"},
    ),
    Route("GET", "/healthz", auth=False),
    Route("GET", "/readyz", auth=False),
    Route("GET", "/metrics", auth=False),
]
# POST /api/auth/logout takes nothing but its token (revoking the module's tokens would end the
# fuzz): it is in the bad-token property below.


class Fuzz:
    def __init__(self, live: LiveServer, tokens: dict[str, str], logged: Records) -> None:
        self.live = live
        self.tokens = tokens
        self.logged = logged
        # The served app in-process, as from the same address and with the same Host header.
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=live.app), base_url=live.url)

    async def rows(self) -> tuple[int, ...]:
        """How many rows each of ``MODELS`` has."""
        async with self.live.chat.db.read() as repos:
            return tuple((await repos.session.execute(ROWS)).one())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fuzz]:
    """alice owns public ``general`` (bob subscribed) and private ``secret``, one message in each."""
    data_dir = tmp_path_factory.mktemp("fuzz-routes") / "data"
    limits = {"register_per_hour": 1_000_000, "login_per_hour": 1_000_000}
    with captured() as logged:
        async with running(settings_for(data_dir, **limits)) as live:
            tokens = {name: await live.register(name) for name in ("alice", "bob")}
            alice, bob = (bearer(tokens[name]) for name in ("alice", "bob"))
            for path, body, headers in [
                ("/api/topics", {"name": "general"}, alice),
                ("/api/topics", {"name": "secret", "private": True}, alice),
                ("/api/topics/general/subscribe", None, bob),
                ("/api/messages", {"topic": "general", "body": "hello"}, alice),
                ("/api/messages", {"topic": "secret", "body": "hush"}, alice),
            ]:
                response = await live.http.post(path, json=body, headers=headers)
                assert response.status_code in SUCCESS, response.text
            fuzz = Fuzz(live, tokens, logged)
            yield fuzz
            await fuzz.http.aclose()


def segment(value: Any) -> str:
    """A path segment or query value: strings as they are, anything else as its JSON."""
    return quote(value if isinstance(value, str) else json.dumps(value), safe="")


def as_query(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


MALFORMED = st.sampled_from([b"", b"{", b'{"body": ', b"NaN", b"[1,]", b"\xef\xbb\xbf{}", b"'x'"])
CONTENT_TYPES = st.sampled_from(["application/json", "application/json", "text/plain", None])


def requests(route: Route) -> st.SearchStrategy[dict[str, Any]]:
    """httpx keyword arguments for one request to ``route``."""
    parts: dict[str, st.SearchStrategy[Any]] = {}
    if route.segment:
        parts["url"] = fuzz.field(route.segment).map(lambda v: route.path.format(segment(v)))
    if route.query:
        query = {key: fuzz.field(kind).map(as_query) for key, kind in route.query.items()}
        # httpx refuses a query over 64 KiB before sending anything: several 4000-emoji values would
        # be a client-side error, not a request to the server.
        parts["params"] = st.fixed_dictionaries({}, optional=query).filter(
            lambda params: len(urlencode(params)) < 60_000
        )
    if route.body is not None:
        json_body = fuzz.payloads(route.body, surrogates=True).map(lambda p: json.dumps(p).encode())
        parts["content"] = json_body | MALFORMED
        parts["headers"] = CONTENT_TYPES.map(lambda kind: {"content-type": kind} if kind else {})
    return st.fixed_dictionaries(parts)


REQUESTS = {route.id: requests(route) for route in ROUTES}  # built once: not cheap


def assert_documented(response: httpx.Response) -> None:
    """Section 6: a success, or an error status with the envelope and a code that fits it."""
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code in SUCCESS:
        return
    assert response.status_code in CODES_BY_STATUS, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] in CODES_BY_STATUS[response.status_code], (response.status_code, body)
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip(), body


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
@given(data=st.data())
async def test_every_request_gets_a_documented_answer_and_a_refusal_stores_nothing(server, route, data):
    who = data.draw(st.sampled_from(["alice", "bob"]), label="who")
    request = data.draw(REQUESTS[route.id], label="request")
    headers = {**request.pop("headers", {}), **bearer(server.tokens[who])}
    request.setdefault("url", route.path)
    before, tracebacks = await server.rows(), len(server.logged.tracebacks())

    response = await server.http.request(route.method, headers=headers, follow_redirects=True, **request)

    assert_documented(response)
    if response.status_code >= 400:
        assert await server.rows() == before
    assert server.logged.tracebacks()[tracebacks:] == []


AUTHENTICATED = [route for route in ROUTES if route.auth] + [Route("POST", "/api/auth/logout")]
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)


@pytest.mark.parametrize("route", AUTHENTICATED, ids=lambda route: route.id)
@settings(max_examples=TARGETED)
@given(data=st.data())
async def test_a_bad_token_is_401_unauthorized_on_every_authenticated_route(server, route, data):
    token = server.tokens["alice"]
    header = data.draw(
        st.one_of(
            HEADER_TEXT,
            HEADER_TEXT.map(lambda junk: f"Bearer {junk}"),
            st.builds(
                lambda cut, junk: f"Bearer {token[:cut]}{junk}", st.integers(0, len(token) - 1), HEADER_TEXT
            ),
        ).filter(lambda value: value and value == value.strip() and value != f"Bearer {token}"),
        label="authorization",
    )
    before = await server.rows()
    url = route.path.format({"topic": "general", "user": "bob", "int": "1", None: ""}[route.segment])

    response = await server.http.request(route.method, url, headers={"authorization": header})

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized", response.text
    assert await server.rows() == before


BODY_ROUTES = [route for route in ROUTES if route.body is not None]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda route: route.id)
@settings(max_examples=TARGETED)
@given(content=st.binary(min_size=1, max_size=30).filter(lambda raw: not raw.isascii()))
async def test_a_body_that_is_not_utf8_is_422_invalid(server, route, content):
    """Section 6: a body that is not JSON is a validation error, 422 ``invalid``, whatever its bytes."""
    before = await server.rows()
    url = route.path.format({"topic": "general", "user": "bob", "int": "1", None: ""}[route.segment])
    headers = {"content-type": "application/json", **bearer(server.tokens["alice"])}

    response = await server.http.request(route.method, url, content=content, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid", response.text
    assert await server.rows() == before


def d5(method: str, url: str) -> Any:
    return pytest.param(method, url, id=f"{method} {url}")


WIDE = [
    d5("PUT", "/api/messages/{}"),
    d5("DELETE", "/api/messages/{}"),
    d5("GET", "/api/topics/general/messages?before_seq={}"),
    d5("GET", "/api/conversations/bob/messages?before_seq={}"),
    d5("GET", "/api/echo/history?before={}"),
    pytest.param("GET", "/api/topics/general/messages?limit={}", id="GET limit"),
    pytest.param("GET", "/api/echo/history?limit={}", id="GET echo limit"),
]


@pytest.mark.parametrize(("method", "url"), WIDE)
@settings(max_examples=TARGETED)
@given(number=st.integers(2**63, 2**64) | st.sampled_from([2**63, 2**70, 10**30]))
async def test_an_integer_past_64_bits_is_422_invalid(server, method, url, number):
    """D5: ids, sequence numbers and offsets are signed 64-bit columns; anything wider is ``invalid``."""
    before = await server.rows()
    body = {"body": "x"} if method == "PUT" else None
    headers = bearer(server.tokens["alice"])

    response = await server.http.request(method, url.format(number), json=body, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid", response.text
    assert await server.rows() == before


SPOILT_TEXT = st.builds(lambda head, char: head + char, fuzz.text(), fuzz.LONE_SURROGATE)
TEXT_FIELDS = [
    pytest.param("POST", "/api/messages", {"topic": "general"}, "body", id="send-body"),
    pytest.param("PUT", "/api/messages/1", {}, "body", id="edit-body"),
    pytest.param("POST", "/api/messages", {"topic": "general", "body": "x"}, "client_id", id="client-id"),
    pytest.param("POST", "/api/users", {"username": "carol"}, "password", id="register-password"),
    pytest.param("POST", "/api/auth/login", {"username": "alice"}, "password", id="login-password"),
]


@pytest.mark.parametrize(("method", "url", "rest", "key"), TEXT_FIELDS)
@settings(max_examples=TARGETED)
@given(value=SPOILT_TEXT)
async def test_a_lone_surrogate_in_a_text_field_is_422_invalid(server, method, url, rest, key, value):
    """JSON may escape a lone surrogate (``"\\ud800"``); no database can store it, so it is ``invalid``."""
    before = await server.rows()
    content = json.dumps({**rest, key: value}).encode()
    headers = {"content-type": "application/json", **bearer(server.tokens["alice"])}

    response = await server.http.request(method, url, content=content, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid", response.text
    assert await server.rows() == before
