"""The client demo refreshes its token by itself (PROTOCOL.md section 10, "Token refresh"): on each
``auth:expiring`` it gets a new token over REST, hands it to its socket and keeps it for
reconnections, so a ``listen`` outlives the token it started with.

Tokens live 6 s here and the notice comes 3 s before the expiry: the demo refreshes about every
3 s. The tests wait for what the demo prints, bounded, never for time to pass.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from server.edge.engine.outgoing import close_transport
from server.edge.realtime.connection import Connection
from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import Demo
from tests.support import PASSWORD, LiveServer, bearer
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases

TTL = 6  # PARLEY_TOKEN_TTL here: every token the server issues
NOTICE = 3.0  # PARLEY_EXPIRY_NOTICE
WAIT = 15.0  # for one line of the demo (a cold start, a refresh round)


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    # ``fast_pings``: a transport dropped without a word is noticed within a second. Only the test
    # that drops one has them: on a loaded machine a pong half a second late ends a healthy
    # transport too, which the test that wants no reconnection must not see.
    fast = request.node.get_closest_marker("fast_pings") is not None
    pings = {"ping_interval": 0.5, "ping_timeout": 0.5} if fast else {}
    return settings_for(tmp_path / "data", token_ttl=TTL, expiry_notice=NOTICE, **pings)


async def started_listening(live_server: LiveServer, spawn: Spawn) -> tuple[Demo, datetime]:
    """bob's ``listen --topic lobby``, logged in by the demo (its token is as fresh as it can be
    when it connects, however slowly the demo starts), and the expiry of the token its socket holds
    then (read from the server). alice talks."""
    for name in ("alice", "bob"):
        await live_server.register(name)
    demo = await spawn("--user", "bob", "--password-stdin", "listen", "--topic", "lobby")
    await demo.write(PASSWORD)
    await demo.expect("listening on lobby", stream="err", timeout=WAIT)
    expires_at = bob_connection(live_server).expires_at
    assert expires_at is not None
    return demo, expires_at


def bob_connection(live_server: LiveServer) -> Connection:
    """The server's side of bob's one socket (the realtime runtime's connection)."""
    [connection] = [c for c in live_server.app.state.chat_namespace.registry if c.actor.username == "bob"]
    return connection


async def refreshed_past(demo: Demo, moment: datetime) -> None:
    """Wait for the demo's refreshes until one happened after ``moment`` (a few at most)."""
    for _ in range(5):
        await demo.expect("token refreshed, valid until", stream="err", timeout=WAIT)
        if time.time() > moment.timestamp():
            return
    raise AssertionError(f"no refresh after {moment}\n{demo.transcript()}")


async def say_in_lobby(live_server: LiveServer, body: str) -> None:
    """alice talks over REST: a socket of hers would live under this module's half-second pings,
    which a loaded machine can miss during its handshake (the demo's socket is the one tested)."""
    token = (await live_server.chat.users.issue_token("alice")).token
    sent = await live_server.http.post(
        "/api/messages", json={"topic": "lobby", "body": body}, headers=bearer(token)
    )
    assert sent.status_code == 201, sent.text


async def test_listen_outlives_its_first_token_by_refreshing_it(
    live_server: LiveServer, spawn: Spawn
) -> None:
    demo, first_expiry = await started_listening(live_server, spawn)
    await refreshed_past(demo, first_expiry)
    await say_in_lobby(live_server, "still there?")
    line = await demo.expect("still there?", timeout=WAIT)
    assert "alice" in line
    assert demo.proc.returncode is None, demo.transcript()
    assert not any("disconnected" in line or "reconnect" in line for line in demo.err), demo.transcript()


@pytest.mark.fast_pings
async def test_a_reconnection_presents_the_refreshed_token(live_server: LiveServer, spawn: Spawn) -> None:
    """Past the first token's expiry the server drops the demo's transport without a word, as a
    network failure does: python-socketio reconnects, with the token the demo holds now (the
    first one would be refused ``token_expired``, and the demo would end)."""
    demo, first_expiry = await started_listening(live_server, spawn)
    await refreshed_past(demo, first_expiry)
    namespace = live_server.app.state.chat_namespace
    eio_sid = namespace.sio.manager.eio_sid_from_sid(bob_connection(live_server).key, "/")
    await close_transport(namespace.sio, eio_sid)  # no word: the client finds out by its pings
    await demo.expect("reconnecting", stream="err", timeout=WAIT)
    await demo.expect("reconnected as bob", stream="err", timeout=WAIT)
    await say_in_lobby(live_server, "welcome back")
    await demo.expect("welcome back", timeout=WAIT)
    assert demo.proc.returncode is None, demo.transcript()
