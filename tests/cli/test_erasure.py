"""``parley user delete NAME --erase`` (PROTOCOL.md section 16): the operator's erasure, without a
server (the command runs the job to its end itself) and against a running ``parley serve`` (its
sockets close, its messages become tombstones sent by ``[deleted]``)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.cli.runner import PASSWORD, Place, parley, place_in, serving
from tests.cli.test_operator import create, rows
from tests.cli.test_operator_live import WAIT, connected, token_of

pytestmark = pytest.mark.timeout(180)  # several commands per test, each a new process


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return place_in(tmp_path).with_env(PARLEY_DEFAULT_TOPICS="lobby,general")


async def test_erase_without_a_server_finishes_and_keeps_the_name_reserved(place: Place) -> None:
    await create(place, "alice", "bobby")
    result = await parley(place, "user", "delete", "alice", "--erase", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "username": "alice",
        "state": "erased",
        "messages": 0,
        "memberships_removed": 2,
        "bots_disabled": 0,
    }
    assert rows(place, "SELECT username, username_key FROM users WHERE id = 1") == [("[deleted]", "alice")]
    assert rows(place, "SELECT erased_at IS NOT NULL FROM users WHERE id = 1") == [(1,)]
    assert rows(place, "SELECT count(*) FROM erasure_jobs") == [(0,)]
    again = await parley(place, "user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.code == 1 and "conflict" in again.err
    gone = await parley(place, "user", "delete", "alice", "--erase")
    assert gone.code == 1 and "not_found" in gone.err
    listed = json.loads((await parley(place, "user", "list", "--json")).out)
    assert [u["username"] for u in listed["users"]] == ["bobby"]


async def test_erase_says_so_in_its_table(place: Place) -> None:
    await create(place, "alice")
    result = await parley(place, "user", "delete", "alice", "--erase")
    assert result.code == 0, result.err
    assert result.out == (
        "erased alice: 0 messages tombstoned as '[deleted]', 2 memberships removed, 0 bots disabled\n"
    )


async def test_erase_against_a_running_server_closes_sockets_and_tombstones_messages(
    place: Place, unused_tcp_port: int
) -> None:
    await create(place, "alice", "bobby")
    async with serving(place, unused_tcp_port) as url:
        alice, bobby = await token_of(url, "alice"), await token_of(url, "bobby")
        async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
            for body in ("first words", "second words"):
                sent = await http.post(
                    "/api/messages",
                    json={"topic": "lobby", "body": body},
                    headers={"Authorization": f"Bearer {alice}"},
                )
                assert sent.status_code == 201, sent.text
            async with connected(url, alice) as client:
                result = await parley(place, "user", "delete", "alice", "--erase", "--json")
                assert result.code == 0, result.err
                assert json.loads(result.out)["messages"] == 2
                await asyncio.wait_for(client.closed.wait(), WAIT)
            async with asyncio.timeout(WAIT):  # the command or the server finishes the job
                while rows(place, "SELECT erased_at IS NOT NULL FROM users WHERE id = 1") != [(1,)]:
                    await asyncio.sleep(0.05)
            page = await http.get("/api/topics/lobby/messages", headers={"Authorization": f"Bearer {bobby}"})
            texts = [m for m in page.json()["messages"] if m["type"] == "text"]
            assert [(m["sender"], m["body"], m["deleted"]) for m in texts] == [("[deleted]", "", True)] * 2
            refused = await http.get("/api/users/me", headers={"Authorization": f"Bearer {alice}"})
            assert refused.status_code == 401
