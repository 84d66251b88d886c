"""``parley bot create|list|token|revoke`` (PROTOCOL.md section 12) against a running server: the
token printed once works for Socket.IO and REST, and revoking it closes the socket that used it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.cli.runner import Place, place_in, serving
from tests.cli.test_operator_live import WAIT, connected, create, ok, parley, redis_place, refused_connection

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=["relay", pytest.param("redis", marks=pytest.mark.redis)])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    """Revocations reach the server through the relay table, or through Redis."""
    base = place_in(tmp_path)
    return redis_place(base) if request.param == "redis" else base


async def test_an_operator_makes_a_bot_and_a_token_then_revokes_it(place, unused_tcp_port):
    await create(place, "alice")
    assert "created bot deploy-bot owned by alice" in await ok(
        place, "bot", "create", "deploy-bot", "--owner", "alice"
    )
    listed = json.loads(await ok(place, "bot", "list", "--json"))["bots"]
    assert [(b["username"], b["owner"], b["state"]) for b in listed] == [("deploy-bot", "alice", "active")]
    assert "deploy-bot  alice  active" in await ok(place, "bot", "list")
    made = json.loads(await ok(place, "bot", "token", "deploy-bot", "--label", "ci", "--json"))
    token, token_id = made["token"], made["id"]
    assert token.startswith("pb_")

    async with serving(place, unused_tcp_port) as url:
        async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
            me = await http.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
            assert (me.json()["username"], me.json()["bot"]) == ("deploy-bot", True)
        async with connected(url, token) as client:
            assert "revoked token" in await ok(place, "bot", "revoke", "deploy-bot", token_id)
            await asyncio.wait_for(client.closed.wait(), WAIT)
        assert (await refused_connection(url, token))["data"]["code"] == "unauthorized"


async def test_bad_bot_commands_say_why_and_store_nothing(place):
    await create(place, "alice")
    for args, text in (
        (("bot", "create", "x", "--owner", "alice"), "invalid"),
        (("bot", "create", "alice", "--owner", "alice"), "taken"),
        (("bot", "create", "helper", "--owner", "nobody"), "no user named"),
        (("bot", "token", "alice"), "no bot named"),
        (("bot", "revoke", "nobody", "0" * 32), "no bot named"),
    ):
        result = await parley(place, *args)
        assert result.code != 0 and text in result.err, (args, result)
    assert json.loads(await ok(place, "bot", "list", "--json")) == {"bots": []}
