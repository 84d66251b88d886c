"""The echo upstream is one bounded pool per process (PROTOCOL.md section 5): echoes share its
connections, an upstream that never answers costs at most the pool's size in descriptors, and each
echo fails within the echo timeout with the protocol's ``internal``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from tests.edge.sio.test_echo import echo, echo_client
from tests.support import WAIT, running
from tests.support import test_settings as settings_with

POOL = 2
TIMEOUT = 0.5
EXCHANGES = 20


class Silent:
    """A TCP server that accepts and never says a word; counts the connections open at once."""

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0
        self.accepted = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.accepted += 1
        self.peak = max(self.peak, self.open)
        try:
            while await reader.read(65536):  # until the client closes or aborts
                pass
        except ConnectionError:
            pass
        finally:
            self.open -= 1
            writer.close()


@asynccontextmanager
async def silent_upstream() -> AsyncIterator[tuple[str, Silent]]:
    silent = Silent()
    server = await asyncio.start_server(silent.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}", silent
    finally:
        server.close()


async def test_an_upstream_that_never_answers_costs_at_most_the_pool_and_each_echo_fails_in_time(
    tmp_path: Path,
) -> None:
    async with silent_upstream() as (url, silent):
        settings = settings_with(
            tmp_path / "data", echo_upstream=url, echo_timeout=TIMEOUT, echo_upstream_connections=POOL
        )
        async with running(settings) as live:
            token = await live.register("alice")
            clients = [await echo_client(live, "alice", token) for _ in range(4)]
            loop = asyncio.get_running_loop()

            async def timed(client: Any, n: int) -> tuple[Any, float]:
                started = loop.time()
                answer = await echo(client, {"n": n})
                return answer, loop.time() - started

            results = await asyncio.gather(*(timed(clients[n % 4], n) for n in range(EXCHANGES)))
            for client in clients:
                await client.close()
    assert {(answer["ok"], answer["error"]["code"]) for answer, _took in results} == {(False, "internal")}
    # Each echo fails on its own timeout (0.5 s; about 0.505 s on a quiet machine), not after the
    # echoes queued before it for the pool: 20 echoes over 2 connections one after another would
    # take 5 s. Half of that leaves room for a loaded machine (1.5 s was seen under the whole suite).
    assert max(took for _answer, took in results) < EXCHANGES * TIMEOUT / POOL / 2, results
    assert 1 <= silent.peak <= POOL, f"{silent.peak} connections to the upstream at once"


async def test_echoes_share_the_pooled_upstream_connection(tmp_path: Path) -> None:
    connections: list[ServerConnection] = []

    async def answer(ws: ServerConnection) -> None:
        connections.append(ws)
        async for frame in ws:
            await ws.send(json.dumps({"upstream": json.loads(frame)}))

    async with serve(answer, "127.0.0.1", 0) as upstream:
        url = f"ws://127.0.0.1:{next(iter(upstream.sockets)).getsockname()[1]}"
        settings = settings_with(tmp_path / "data", echo_upstream=url, echo_upstream_connections=POOL)
        async with running(settings) as live:
            token = await live.register("alice")
            first, second = [await echo_client(live, "alice", token) for _ in range(2)]
            answers = [await echo(client, {"n": n}) for n, client in enumerate([first, second] * 5)]
            await first.close()
            await second.close()
    assert answers == [{"upstream": {"n": n}} for n in range(10)]
    assert len(connections) == 1, "each echo opened its own upstream connection"


async def test_the_pool_is_closed_at_shutdown(tmp_path: Path) -> None:
    async with silent_upstream() as (url, silent):
        settings = settings_with(tmp_path / "data", echo_upstream=url, echo_timeout=60.0)
        async with running(settings) as live:
            token = await live.register("alice")
            client = await echo_client(live, "alice", token)
            pending = asyncio.create_task(echo(client, "never answered"))
            while silent.accepted == 0:  # the echo reached the upstream
                await asyncio.sleep(0.01)
        pending.cancel()
        deadline = asyncio.get_running_loop().time() + WAIT
        while silent.open and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
    assert silent.open == 0
