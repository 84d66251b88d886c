"""The server API's live side across two real ``parley serve`` (PROTOCOL.md section 17): an
``app:`` event to a user's sockets on both nodes with their acknowledgements gathered (a socket
that does not answer counted missing), an event to a topic reaching its online members on both
nodes and no one else, presence answered for the cluster, and after a kill -9 of one node its
users leaving the presence answer within the presence TTL. One scenario, one pair of nodes."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.chat_factory import build_chat
from tests.databases import fresh_postgres_database, postgres_url
from tests.scaleout.test_node_crash import TTL, connect, crashable_nodes, register
from tests.support import Client, bearer, polled
from tests.support import test_settings as settings_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def server_key(tmp_path: Path, database: str) -> dict[str, str]:
    """A server key made as the operator makes one, on the nodes' database."""
    chat = build_chat(settings_for(tmp_path / "operator", database_url=database))
    try:
        made = await chat.server_keys.create("backend")
    finally:
        await chat.db.dispose()
    return bearer(made.key)


def answering(client: Client, event: str, answer: Any) -> None:
    async def handler(_data: Any) -> Any:
        return answer

    client.sio.on(event, handler)


async def test_app_events_and_presence_span_the_nodes_and_a_killed_nodes_users_leave_it(tmp_path: Path):
    async with fresh_postgres_database(postgres_url(), migrated=True) as database:
        key = await server_key(tmp_path, database)
        async with crashable_nodes(tmp_path, database, PARLEY_PRESENCE_GRACE="0.2") as (
            node_one,
            url_one,
            url_two,
            _,
        ):
            one = httpx.AsyncClient(base_url=url_one, headers=key, timeout=10)
            two = httpx.AsyncClient(base_url=url_two, headers=key, timeout=10)
            tokens = {name: await register(url_one, name) for name in ("alice", "bob", "carol", "dave")}
            on_one = await connect(url_one, "alice", tokens["alice"])
            on_two = await connect(url_two, "alice", tokens["alice"])
            silent = await connect(url_two, "alice", tokens["alice"])
            bob = await connect(url_two, "bob", tokens["bob"])
            carol = await connect(url_one, "carol", tokens["carol"])  # not a member
            dave = await connect(url_one, "dave", tokens["dave"])  # a member on node one only
            answering_sids = {on_one.sio.get_sid(), on_two.sio.get_sid()}
            answering(on_one, "app:ping", "from one")
            answering(on_two, "app:ping", {"from": "two"})
            release = asyncio.Event()

            async def too_late(_data: Any) -> str:
                await release.wait()
                return "too late"

            silent.sio.on("app:ping", too_late)
            await on_one.ok("topic:create", {"name": "den", "private": True})
            for invited in ("bob", "dave"):
                await on_one.ok("topic:invite", {"topic": "den", "username": invited})

            started = time.monotonic()
            acked = await one.post(
                "/api/server/emit",
                json={"user": "alice", "event": "app:ping", "data": 1, "ack_timeout_ms": 1500},
            )
            waited = time.monotonic() - started
            release.set()
            board = await two.post(
                "/api/server/emit", json={"topic": "den", "event": "app:board", "data": [1]}
            )
            boarded = [await client.next("app:board") for client in (on_one, on_two, silent, bob, dave)]
            after = await two.post(
                "/api/server/emit", json={"user": "carol", "event": "app:later", "data": 2}
            )
            await carol.next("app:later")
            den = await two.get("/api/server/topics/den/presence")
            alice_seen = await two.get("/api/server/users/alice/presence")
            dave_before = await two.get("/api/server/users/dave/presence")

            node_one.send_signal(signal.SIGKILL)
            killed = time.monotonic()

            async def dave_left() -> bool:
                answer = (await two.get("/api/server/users/dave/presence")).json()
                return answer["online"] is False

            await polled(dave_left, within=4 * TTL)
            left_after = time.monotonic() - killed
            den_after = await two.get("/api/server/topics/den/presence")
            alice_after = await two.get("/api/server/users/alice/presence")
            await asyncio.gather(one.aclose(), two.aclose())
            for client in (on_one, on_two, silent, bob, carol, dave):
                await client.close()

    assert acked.status_code == 200, acked.text
    assert sorted(str(ack["data"]) for ack in acked.json()["acks"]) == ["from one", "{'from': 'two'}"]
    assert {ack["socket"] for ack in acked.json()["acks"]} == answering_sids
    assert acked.json()["missing"] == 1
    assert 1.4 <= waited < 4.0, waited  # the timeout, not a node's deadline past it
    assert (board.status_code, board.json()) == (202, {"sockets": 5})  # alice's 3, bob, dave
    assert boarded == [[1]] * 5
    assert after.json() == {"sockets": 1}
    assert carol.pending("app:board") == []  # later news came first: the topic's never will
    assert den.json() == {"online": ["alice", "bob", "dave"], "count": 3}
    assert alice_seen.json() == {"online": True, "sockets": 3, "availability": "online", "last_seen": None}
    assert (dave_before.json()["online"], dave_before.json()["sockets"]) == (True, 1)
    assert left_after < TTL + TTL / 3 + 1.5, left_after  # the TTL, one heartbeat, and slack
    assert den_after.json() == {"online": ["alice", "bob"], "count": 2}
    assert (alice_after.json()["online"], alice_after.json()["sockets"]) == (True, 2)
