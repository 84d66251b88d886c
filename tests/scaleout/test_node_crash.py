"""kill -9 of a node: its users go offline for their partners within the presence TTL, and
reconnect to the surviving node with nothing acknowledged lost, and its sockets stop counting
against their users' limit (two real ``parley serve``, one kill for the three: it was two tests,
two pairs of nodes and two kills before)."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.databases import fresh_postgres_database, postgres_url
from tests.durability.test_kill9 import crash_place, free_port, server
from tests.edge.sio.test_connect import assert_refused, socket
from tests.scaleout.conftest import redis_url
from tests.support import PASSWORD, Client

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
TTL = 2.0


@asynccontextmanager
async def crashable_nodes(
    tmp_path: Path, database: str, **env: str
) -> AsyncIterator[tuple[Any, str, str, Path]]:
    """Two real ``parley serve`` on ``database`` and one Redis channel, with a presence TTL of
    ``TTL``: the first node's process (to kill), both nodes' URLs and the second one's log."""
    place = crash_place(
        tmp_path,
        PARLEY_DATABASE_URL=database,
        PARLEY_REDIS_URL=redis_url(),
        PARLEY_REDIS_CHANNEL=f"crash-{uuid.uuid4().hex[:8]}",
        PARLEY_PRESENCE_TTL=str(TTL),
        **env,
    )
    one, two = free_port(), free_port()
    async with server(place, one) as node_one, server(place, two):
        yield node_one, f"http://127.0.0.1:{one}", f"http://127.0.0.1:{two}", place.cwd / f"serve-{two}.log"


async def register(url: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        response = await http.post("/api/users", json={"username": name, "password": PASSWORD})
        assert response.status_code == 201, response.text
        return str(response.json()["token"])


async def connect(url: str, name: str, token: str) -> Client:
    client = Client(name)
    await client.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    await client.next("session")
    return client


async def connect_once_let_in(url: str, name: str, token: str, since: float) -> Client:
    """Connect as ``name`` as soon as the server lets the socket in, trying every 0.1 s; fails
    when it has not within ``4 * TTL`` of ``since``. Nothing tells a refused client when a slot
    frees, so this polls; each refused try leaves no socket (and no presence) behind."""
    while True:
        try:
            return await connect(url, name, token)
        except socketio.exceptions.ConnectionError:
            assert time.monotonic() - since < 4 * TTL, f"{name}'s socket on the killed node still counts"
        await asyncio.sleep(0.1)


async def test_a_killed_nodes_users_go_offline_stop_counting_and_lose_nothing_within_the_ttl(
    tmp_path: Path,
):
    """One kill -9 of the node alice is connected to, three outcomes within the presence TTL: her
    partner on the other node sees her go offline; her socket there stops counting against her
    limit of one (sockets per user are counted for the cluster, and the killed node's beat stops);
    and on the surviving node she gets everything sent to her meanwhile."""
    async with fresh_postgres_database(postgres_url(), migrated=True) as database:
        async with crashable_nodes(
            tmp_path, database, PARLEY_PRESENCE_GRACE="0.2", PARLEY_MAX_CONNECTIONS_PER_USER="1"
        ) as (node_one, url_one, url_two, _):
            alice_token, bob_token = await register(url_one, "alice"), await register(url_two, "bob")
            bob = await connect(url_two, "bob", bob_token)
            alice = await connect(url_one, "alice", alice_token)
            hello = await alice.ok("message:send", {"to": "bob", "body": "hello"})  # now partners
            assert (await alice.next("message"))["id"] == hello["id"]
            await alice.ok("delivered", {"with": "bob", "seq": hello["seq"]})
            assert (await bob.next("message"))["id"] == hello["id"]
            async with httpx.AsyncClient(base_url=url_two, timeout=10) as http:
                seen = await http.get("/api/users/alice", headers={"Authorization": f"Bearer {bob_token}"})
            assert seen.json()["online"] is True  # asked of node two, connected to node one
            async with socket(url_two, auth={"token": alice_token}) as attempt:
                assert_refused(attempt, "rate_limited")  # her one socket is on the other node

            node_one.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            gone = await bob.next("presence", timeout=4 * TTL)
            went_offline = time.monotonic() - killed
            missed = [await bob.ok("message:send", {"to": "alice", "body": f"missed {n}"}) for n in range(2)]
            alice_again = await connect_once_let_in(url_two, "alice", alice_token, killed)
            let_in = time.monotonic() - killed
            back = await bob.next("presence")
            # At-least-once: node one may have died before flushing alice's ack of "hello", so
            # that may come again (clients drop it by id); everything sent meanwhile must come.
            replayed = [await alice_again.next("message")]
            if replayed[0]["id"] == hello["id"]:
                replayed = [await alice_again.next("message")]
            replayed += [await alice_again.next("message") for _ in missed[1:]]

        assert (gone["username"], gone["online"]) == ("alice", False) and gone["last_seen"]
        assert went_offline < TTL + TTL / 3 + 1.5, went_offline  # the TTL, one heartbeat, and slack
        assert let_in < TTL + TTL / 3 + 1.5, let_in  # her socket on the killed node no longer counts
        assert (back["username"], back["online"]) == ("alice", True)
        assert [m["id"] for m in replayed] == [m["id"] for m in missed]
        await asyncio.gather(bob.close(), alice_again.close(), alice.close())
