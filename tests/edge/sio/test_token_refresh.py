"""Token refresh on a live socket (PROTOCOL.md section 10, "Token refresh"): ``auth:expiring``
comes ``PARLEY_EXPIRY_NOTICE`` seconds before the socket's token expires, ``auth:refresh`` gives
the socket a new token, a socket that does not refresh is disconnected at the expiry and its old
token is refused ``token_expired``; ``POST /api/auth/refresh`` issues the new token.

Short tokens come from the server's own service (``issue_token`` with a lifetime of seconds), so
a slow sign-up on a loaded machine never eats into them; every wait is for an event, bounded.

One server per module (``server``), each test with its own users (``names``); the tests marked
``both_databases`` (a logout's revocation, stored with the user) run on PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from server.chat.kernel.views import iso_required
from tests.edge.gateway.wsclient import opened
from tests.edge.sio.test_connect import assert_refused, socket
from tests.shared_server import Names, databases_of, own_sockets, shared_server
from tests.support import WAIT, Client, LiveServer, bearer

pytestmark = pytest.mark.asyncio(loop_scope="module")

# PARLEY_EXPIRY_NOTICE here: the slack a client has to refresh, or to be answered before the expiry.
# 2 s was too little on a loaded CI host: one cyclic collection of a test process hosting many apps
# took 0.3-0.9 s (gc.callbacks, a CI run of 2026-11-29), more on a slower host, and a topic:list
# sent on the notice went unanswered until the expiry cut the socket 2 s later.
NOTICE = 4.0
SHORT = 6  # seconds a short token lives (5 to 6: its expiry is whole seconds); its notice 1-2 s in
LATE = WAIT + SHORT  # the longest wait for something that happens at a token's expiry


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    databases_of(metafunc)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory, request) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory, request.param, expiry_notice=NOTICE) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest.fixture
def names() -> Names:
    return Names()


async def short_token(live_server: LiveServer, username: str, seconds: int = SHORT) -> tuple[str, datetime]:
    """A token of ``username`` that expires in ``seconds``, and its expiry as the token says it."""
    token = (await live_server.chat.users.issue_token(username, ttl_seconds=seconds)).token
    return token, live_server.chat.users.tokens.decode(token).expires_at


async def refreshed(live_server: LiveServer, token: str) -> dict[str, Any]:
    response = await live_server.http.post("/api/auth/refresh", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def disconnected(client: Client, timeout: float = LATE) -> None:
    await asyncio.wait_for(client.sio.wait(), timeout)
    assert not client.connected


async def still_works(client: Client) -> None:
    """The socket is connected and answers (an event with an ack)."""
    assert client.connected
    assert "topics" in await client.ok("topic:list")


# The notice and the expiry ------------------------------------------------------------------------


async def test_a_socket_is_told_before_its_token_expires_and_disconnected_at_the_expiry(
    live_server: LiveServer,
    names: Names,
) -> None:
    await live_server.register(names.alice)
    token, expires_at = await short_token(live_server, names.alice)
    alice = await live_server.connect(names.alice, token)
    reasons: list[Any] = []
    alice.sio.on("disconnect", lambda *args: reasons.append(args))

    notice = await alice.next("auth:expiring", LATE)
    assert notice == {"expires_at": iso_required(expires_at)}
    assert time.time() < expires_at.timestamp(), "told before the expiry"
    await still_works(alice)

    await disconnected(alice)
    assert time.time() >= expires_at.timestamp() - 0.1, "not before the expiry"
    assert reasons == [(alice.sio.reason.SERVER_DISCONNECT,)], "the server ended it"
    assert alice.pending("auth:expiring") == [], "told once"

    async with socket(live_server.url, auth={"token": token}) as attempt:
        assert_refused(attempt, "token_expired")


async def test_a_refreshed_socket_outlives_its_first_token(live_server: LiveServer, names: Names) -> None:
    """alice refreshes on the notice; bob, connected with a token of the same lifetime, does not."""
    for name in (names.alice, names.bob):
        await live_server.register(name)
    first, first_expiry = await short_token(live_server, names.alice)
    alice = await live_server.connect(names.alice, first)
    bob = await live_server.connect(names.bob, (await short_token(live_server, names.bob))[0])

    await alice.next("auth:expiring", LATE)
    new = await refreshed(live_server, first)
    answer = await alice.ok("auth:refresh", {"token": new["token"]})
    new_expiry = live_server.chat.users.tokens.decode(new["token"]).expires_at
    assert answer == {"expires_at": iso_required(new_expiry)}
    assert new_expiry > first_expiry

    await disconnected(bob)  # at his token's expiry, which is no earlier than alice's first
    assert time.time() >= first_expiry.timestamp() - 0.1
    await still_works(alice)
    assert alice.pending("auth:expiring") == [], "no notice for the new token yet: it has a day to go"
    # The server holds the new expiry for the socket, and the socket a reconnect would use is fine.
    async with socket(live_server.url, auth={"token": new["token"]}) as attempt:
        assert (await attempt.session())["user"] == {"username": names.alice}


async def test_a_refresh_with_a_short_token_is_told_again_and_expires_at_the_new_time(
    live_server: LiveServer,
    names: Names,
) -> None:
    await live_server.register(names.alice)
    # The second token's notice (its life, 8 to 9 s, less NOTICE) comes after the first's expiry
    # (NOTICE after the first notice at most).
    first, first_expiry = await short_token(live_server, names.alice, 5)
    alice = await live_server.connect(names.alice, first)
    await alice.next("auth:expiring", LATE)
    second, second_expiry = await short_token(live_server, names.alice, 9)
    assert await alice.ok("auth:refresh", {"token": second}) == {"expires_at": iso_required(second_expiry)}

    notice = await alice.next("auth:expiring", LATE)
    assert notice == {"expires_at": iso_required(second_expiry)}
    assert time.time() >= first_expiry.timestamp() - 0.1, "the second notice comes after the first expiry"
    await still_works(alice)
    await disconnected(alice)
    assert time.time() >= second_expiry.timestamp() - 0.1


# What auth:refresh refuses -------------------------------------------------------------------------


async def test_a_bad_foreign_or_expired_token_is_unauthorized_and_the_socket_keeps_its_own(
    live_server: LiveServer,
    names: Names,
) -> None:
    await live_server.register(names.bob)
    alice = await live_server.user(names.alice)
    bob_token = (await live_server.chat.users.issue_token(names.bob)).token
    expired = (await live_server.chat.users.issue_token(names.alice, ttl_seconds=-60)).token
    for token in ("garbage", "", bob_token, expired, "x" * 10_000):
        ack = await alice.call("auth:refresh", {"token": token})
        assert ack["ok"] is False and ack["error"]["code"] == "unauthorized", (token[:20], ack)
        await still_works(alice)
    for payload in ({}, {"token": 5}, "token"):
        ack = await alice.call("auth:refresh", payload)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", (payload, ack)
    await still_works(alice)


async def test_a_refused_refresh_leaves_the_old_expiry_in_force(
    live_server: LiveServer, names: Names
) -> None:
    await live_server.register(names.alice)
    token, expires_at = await short_token(live_server, names.alice)
    alice = await live_server.connect(names.alice, token)
    await alice.next("auth:expiring", LATE)
    ack = await alice.call("auth:refresh", {"token": "garbage"})
    assert ack["error"]["code"] == "unauthorized"
    await disconnected(alice)
    assert time.time() >= expires_at.timestamp() - 0.1


@pytest.mark.both_databases
async def test_a_token_revoked_by_a_logout_cannot_refresh_a_socket(
    live_server: LiveServer, names: Names
) -> None:
    """The logout closes alice's sockets; a socket opened with a token from after it refuses the
    older one (revoked: ``unauthorized``)."""
    old = await live_server.register(names.alice)
    assert (await live_server.http.post("/api/auth/logout", headers=bearer(old))).status_code == 204
    fresh = (await live_server.chat.users.issue_token(names.alice)).token
    alice = await live_server.connect(names.alice, fresh)
    ack = await alice.call("auth:refresh", {"token": old})
    assert ack["ok"] is False and ack["error"]["code"] == "unauthorized"
    await still_works(alice)


# POST /api/auth/refresh -----------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_rest_refresh_issues_a_new_token_of_the_same_user(
    live_server: LiveServer, names: Names
) -> None:
    token = await live_server.register(names.alice)
    body = await refreshed(live_server, token)
    assert set(body) == {"token", "expires_at"}
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC)
    old, new = (live_server.chat.users.tokens.decode(t) for t in (token, body["token"]))
    assert (new.user_id, new.version) == (old.user_id, old.version), "the same user and token version"
    assert new.expires_at >= old.expires_at  # a full lifetime from now (the same within one second)
    me = await live_server.http.get("/api/users/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.json()["username"] == names.alice
    # The old token still works until it expires or a logout.
    assert (await live_server.http.get("/api/users/me", headers=bearer(token))).status_code == 200


async def test_rest_refresh_refuses_a_missing_bad_or_expired_token(
    live_server: LiveServer, names: Names
) -> None:
    await live_server.register(names.alice)
    expired = (await live_server.chat.users.issue_token(names.alice, ttl_seconds=-60)).token
    for headers, code in (
        ({}, "unauthorized"),
        (bearer("garbage"), "unauthorized"),
        (bearer(expired), "token_expired"),
    ):
        response = await live_server.http.post("/api/auth/refresh", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == code


@pytest.mark.both_databases
async def test_a_logout_revokes_the_refreshed_token_too(live_server: LiveServer, names: Names) -> None:
    token = await live_server.register(names.alice)
    new = (await refreshed(live_server, token))["token"]
    assert (await live_server.http.post("/api/auth/logout", headers=bearer(new))).status_code == 204
    for revoked in (token, new):
        response = await live_server.http.post("/api/auth/refresh", headers=bearer(revoked))
        assert response.status_code == 401 and response.json()["error"]["code"] == "token_revoked"
        me = await live_server.http.get("/api/users/me", headers=bearer(revoked))
        assert me.status_code == 401


# The gateways ----------------------------------------------------------------------------------------


async def test_a_gateway_socket_is_closed_when_its_token_expires(
    live_server: LiveServer, names: Names
) -> None:
    """The topics dialect (``/compat/topics/<token>``) has no refresh: it is closed 4401 at the expiry."""
    await live_server.register(names.alice)
    token, expires_at = await short_token(live_server, names.alice)
    async with opened(live_server, f"/compat/topics/{token}") as ws:
        assert (await ws.recv())["action"] == "connected"
        assert await ws.closed(LATE) == (4401, "token_expired")
    assert time.time() >= expires_at.timestamp() - 0.1
