"""Workspace roles across nodes (PROTOCOL.md section 19): a role given or taken through one node
counts on the other at once, for a socket opened before the change (every node's ``Roles`` follows
``RoleChanged`` from the hub, before any service acts), and an account disabled through one node
loses its socket on the other."""

from __future__ import annotations

import asyncio

import pytest

from tests.contract import error_code
from tests.support import WAIT, Client, LiveServer, bearer, send

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def heard(client: Client, message_id: int) -> None:
    """``client`` received the message ``message_id``: its node has applied every event the other
    node published before it (one ordered channel)."""
    while (await client.next("message"))["id"] != message_id:
        pass


async def patch(node: LiveServer, token: str, name: str, body: dict[str, object]) -> None:
    response = await node.http.patch(f"/api/admin/users/{name}", headers=bearer(token), json=body)
    assert response.status_code == 200, response.text


async def test_a_role_changed_on_one_node_counts_at_once_on_the_other(nodes):
    node_a, node_b = nodes
    olive_token = await node_a.register("olive")  # the first account: the owner
    olive = await node_a.connect("olive", olive_token)
    adam, maxc, mabel = await node_b.user("adam"), await node_b.user("max"), await node_b.user("mabel")
    await maxc.ok("topic:create", {"name": "plans"})  # max owns it
    for member in (adam, olive, mabel):
        await member.ok("topic:subscribe", {"topic": "plans"})
    refused = await adam.call("topic:mute", {"topic": "plans", "username": "mabel"})
    assert error_code(refused) == "forbidden"

    await patch(node_a, olive_token, "adam", {"role": "admin"})
    await heard(adam, (await send(olive, {"topic": "plans", "body": "made"}))["id"])
    assert (await adam.call("topic:mute", {"topic": "plans", "username": "mabel"}))["ok"] is True

    await patch(node_a, olive_token, "adam", {"role": "member"})
    await heard(adam, (await send(olive, {"topic": "plans", "body": "unmade"}))["id"])
    refused = await adam.call("topic:unmute", {"topic": "plans", "username": "mabel"})
    assert error_code(refused) == "forbidden"


async def test_an_account_disabled_on_one_node_loses_its_socket_on_the_other(nodes):
    node_a, node_b = nodes
    olive_token = await node_a.register("olive")
    maxc = await node_b.user("max")
    closed = asyncio.Event()
    maxc.sio.on("disconnect", lambda *_: closed.set())
    await patch(node_a, olive_token, "max", {"disabled": True})
    await asyncio.wait_for(closed.wait(), WAIT)
    login = await node_b.http.post("/api/auth/login", json={"username": "max", "password": "password123"})
    assert login.status_code == 401
