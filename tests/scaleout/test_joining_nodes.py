"""Joining across nodes (PROTOCOL.md section 19): the registration an admin sets through node A
holds for the next sign-up on node B at once (read from the shared database per sign-up), and an
invite's last use is counted once when two sign-ups race for it on both nodes."""

from __future__ import annotations

import asyncio

import pytest

from tests.contract import assert_error
from tests.support import PASSWORD, bearer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_a_settings_change_on_a_holds_for_a_sign_up_on_b(nodes):
    node_a, node_b = nodes
    owner = bearer(await node_a.register("olive"))  # the first account owns the workspace
    changed = await node_a.http.patch("/api/admin/settings", headers=owner, json={"registration": "invite"})
    assert changed.status_code == 200, changed.text
    assert (await node_b.http.get("/api/auth/methods")).json()["registration"] == "invite"
    body = {"username": "nora", "password": PASSWORD}
    assert_error(await node_b.http.post("/api/users", json=body), 403, "forbidden")

    made = await node_a.http.post("/api/invites", headers=owner, json={"max_uses": 1})
    code = made.json()["code"]
    answers = await asyncio.gather(
        node_a.http.post("/api/users", json={**body, "invite": code}),
        node_b.http.post("/api/users", json={"username": "otto", "password": PASSWORD, "invite": code}),
    )
    assert sorted(answer.status_code for answer in answers) == [201, 422], [a.text for a in answers]

    reopened = await node_b.http.patch("/api/admin/settings", headers=owner, json={"registration": "open"})
    assert reopened.status_code == 200
    assert (
        await node_a.http.post("/api/users", json={"username": "pia", "password": PASSWORD})
    ).status_code == 201
