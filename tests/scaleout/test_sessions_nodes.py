"""Sessions that last across two nodes (PROTOCOL.md section 19): a session signed out on one node
closes its sockets on the other at once (and only its own), a refresh cookie got on one node turns
over on the other, and a cookie replayed on one node ends the session for both.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.edge.gateway.wsclient import opened
from tests.edge.rest.test_sessions import login, refresh, refresh_cookie
from tests.support import WAIT, Client, LiveServer, bearer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def closed(client: Client) -> None:
    """Wait (bounded) until the server closed ``client``'s socket."""
    async with asyncio.timeout(WAIT):
        while client.connected:
            await asyncio.sleep(0.02)  # polls a state, bounded: no sleep stands for an event here


def session_id(node: LiveServer, token: str) -> str:
    sid = node.chat.users.tokens.decode(token).session_id
    assert sid is not None
    return sid


async def test_a_session_signed_out_on_one_node_closes_its_sockets_on_the_other_only(nodes):
    node_a, node_b = nodes
    await node_a.register("alice")
    laptop, _ = await login(node_a, "alice", "laptop")
    phone, _ = await login(node_a, "alice", "phone")
    on_phone = await node_b.connect("alice", phone)
    on_laptop = await node_b.connect("alice", laptop)
    async with opened(node_b, f"/compat/topics/{phone}") as ws:
        assert (await ws.recv())["action"] == "connected"

        gone = await node_a.http.delete(
            f"/api/users/me/sessions/{session_id(node_a, phone)}", headers=bearer(laptop)
        )
        assert gone.status_code == 204

        assert await ws.closed(WAIT) == (4401, "token_revoked")  # the phone's plain WebSocket on B
        await closed(on_phone)  # and its Socket.IO socket on B
    assert on_laptop.connected  # the laptop's session goes on, on B
    await on_laptop.ok("topic:list", {})
    for node in (node_a, node_b):
        refused = await node.http.get("/api/users/me", headers=bearer(phone))
        assert refused.json()["error"]["code"] == "token_revoked"
        assert (await node.http.get("/api/users/me", headers=bearer(laptop))).status_code == 200


async def test_a_cookie_from_one_node_refreshes_on_the_other(nodes):
    node_a, node_b = nodes
    await node_a.register("bob")
    _, cookie = await login(node_a, "bob", "laptop")

    on_b = await refresh(node_b, cookie)
    assert on_b.status_code == 200, on_b.text
    turned = refresh_cookie(on_b)
    assert turned.split(".")[:2] == [cookie.split(".")[0], "2"]
    me = await node_a.http.get("/api/users/me", headers=bearer(on_b.json()["token"]))
    assert me.status_code == 200 and me.json()["username"] == "bob"

    back_on_a = await refresh(node_a, turned)  # and the turned one on A again
    assert back_on_a.status_code == 200, back_on_a.text
    assert refresh_cookie(back_on_a).split(".")[1] == "3"


async def test_a_cookie_replayed_on_one_node_ends_the_session_on_both(nodes):
    node_a, node_b = nodes
    await node_a.register("carol")
    token, first = await login(node_a, "carol", "laptop")
    held_on_a = await node_a.connect("carol", token)
    second = refresh_cookie(await refresh(node_a, first))
    answer = await refresh(node_a, second)
    third, newest_token = refresh_cookie(answer), answer.json()["token"]
    held_on_b = await node_b.connect("carol", newest_token)
    other, _ = await login(node_b, "carol", "phone")  # another session: it stays

    replayed = await refresh(node_b, first)  # two generations old: no grace can cover it
    assert replayed.status_code == 401 and replayed.json()["error"]["code"] == "unauthorized"

    await closed(held_on_a)
    await closed(held_on_b)
    for node in (node_a, node_b):
        assert (await refresh(node, third)).status_code == 401  # the newest cookie is dead too
        for dead in (token, newest_token):
            refused = await node.http.get("/api/users/me", headers=bearer(dead))
            assert refused.json()["error"]["code"] == "token_revoked"
        assert (await node.http.get("/api/users/me", headers=bearer(other))).status_code == 200
