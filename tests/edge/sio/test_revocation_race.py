"""A logout, disable or new password that lands while a socket is being set up still shuts it out.

The socket's token is checked, then its set-up reads the user's memberships (held here at the
database, ``tests/holds.py``), then it is registered where a revocation finds it. A revocation
committed in that window used to miss it: the socket stayed open and kept posting (issue 18).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import socketio

from tests.edge.sio.test_connect import Socket, assert_refused
from tests.holds import held_membership_reads
from tests.support import PASSWORD, WAIT, LiveServer, bearer

pytestmark = pytest.mark.both_databases
Revoke = Callable[[LiveServer, str], Awaitable[None]]


async def logout(server: LiveServer, token: str) -> None:
    assert (await server.http.post("/api/auth/logout", headers=bearer(token))).status_code == 204


async def disable(server: LiveServer, _token: str) -> None:
    await server.chat.accounts.disable("alice")


async def set_password(server: LiveServer, _token: str) -> None:
    await server.chat.accounts.set_password("alice", "another-password")


REVOCATIONS = pytest.mark.parametrize(
    ("revoke", "code"),
    [(logout, "token_revoked"), (disable, "unauthorized"), (set_password, "token_revoked")],
    ids=["logout", "disable", "set-password"],
)


async def attempt(url: str, token: str) -> Socket:
    """A connection attempt; a refusal is recorded (``tests/edge/sio/test_connect.py``), not raised."""
    tried = Socket(socketio.AsyncClient(reconnection=False))
    tried.sio.on("connect_error", tried.errors.append)
    try:
        await tried.sio.connect(url, auth={"token": token}, wait_timeout=WAIT)
    except socketio.exceptions.ConnectionError as exc:
        tried.refusal = exc
    return tried


@REVOCATIONS
async def test_a_revocation_during_set_up_shuts_the_socket_out(
    live_server: LiveServer, revoke: Revoke, code: str
) -> None:
    token = await live_server.register("alice")
    actor = await live_server.chat.users.authenticate(token)
    async with held_membership_reads(live_server) as held:
        connecting = asyncio.ensure_future(attempt(live_server.url, token))
        await held.wait()  # authenticated; set-up under way; not registered yet
        await revoke(live_server, token)
        await held.release()
        tried = await asyncio.wait_for(connecting, WAIT)
    try:
        assert_refused(tried, code)
        assert not tried.sio.connected
        assert live_server.chat.sessions.connections(actor.id) == 0
        assert live_server.app.state.chat_namespace.registry.of_user(actor.id) == []
    finally:
        if tried.sio.connected:
            await tried.sio.disconnect()


async def test_signing_the_session_out_during_set_up_shuts_that_sessions_socket_out(
    live_server: LiveServer,
) -> None:
    """A password login's token belongs to its session (PROTOCOL.md section 19): the logout ends
    that session only, and a socket of it still being set up is refused as a registered one is
    closed, while a token of another session of the same user still connects."""
    await live_server.register("alice")
    login = {"username": "alice", "password": PASSWORD}
    phone = (await live_server.http.post("/api/auth/login", json=login)).json()["token"]
    laptop = (await live_server.http.post("/api/auth/login", json=login)).json()["token"]
    live_server.http.cookies.clear()  # two devices: the logout below carries the phone's bearer only
    actor = await live_server.chat.users.authenticate(phone)
    async with held_membership_reads(live_server) as held:
        connecting = asyncio.ensure_future(attempt(live_server.url, phone))
        await held.wait()
        await logout(live_server, phone)
        await held.release()
        tried = await asyncio.wait_for(connecting, WAIT)
    assert_refused(tried, "token_revoked")
    assert live_server.app.state.chat_namespace.registry.of_user(actor.id) == []
    other = await live_server.connect("alice", laptop)
    assert "topics" in await other.ok("topic:list", {})


async def test_another_users_logout_during_set_up_lets_the_socket_in(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    bob = await live_server.register("bob")
    await live_server.chat.users.authenticate(bob)  # known: bob's logout reads nothing held
    async with held_membership_reads(live_server) as held:
        connecting = asyncio.ensure_future(live_server.connect("alice", token))
        await held.wait()
        await logout(live_server, bob)
        await held.release()
        alice = await asyncio.wait_for(connecting, WAIT)
    assert alice.connected
    assert "topics" in await alice.ok("topic:list", {})
