"""A token remembered as verified on one node (``server.chat.accounts.token_cache``) and a logout
on the other: the cache holds the token's claims only, so the user's token version, which the
hub's ``SessionsRevoked`` makes every node forget, still refuses it there at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from tests.support import PASSWORD, WAIT, LiveServer, bearer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
ROUNDS = 5  # each a fresh token: a window between the logout's answer and the news would show


async def login(node: LiveServer, username: str) -> str:
    response = await node.http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def refusal(node: LiveServer, token: str) -> Any:
    """What a Socket.IO connect with ``token`` was refused with (its CONNECT_ERROR payload)."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(node.url, auth={"token": token}, wait_timeout=WAIT)
    await client.disconnect()
    assert len(errors) == 1, errors
    return errors[0]


async def test_a_token_cached_on_one_node_is_refused_there_right_after_a_logout_on_the_other(nodes):
    node_a, node_b = nodes
    await node_a.register("alice")
    remembered = node_a.chat.users.verified

    for _ in range(ROUNDS):
        token = await login(node_b, "alice")
        held = await node_a.connect("alice", token)  # verified on node A: remembered there
        assert token in remembered
        closed = asyncio.Event()
        held.sio.on("disconnect", lambda *_args, event=closed: event.set())

        response = await node_b.http.post("/api/auth/logout", headers=bearer(token))
        assert response.status_code == 204

        assert token in remembered  # still there: the cache is not what refuses it
        assert (await refusal(node_a, token))["data"]["code"] == "token_revoked"
        await asyncio.wait_for(closed.wait(), WAIT)  # and the open socket was closed

    fresh = await login(node_b, "alice")  # a token after the last logout opens at once
    assert (await node_a.connect("alice", fresh)).connected
