"""Webhook deliveries survive kill -9 (PROTOCOL.md section 12: a durable outbox).

A real ``parley serve`` process takes 100 acknowledged sends to a topic with a webhook whose
receiver is down, so every delivery is pending (retried): twelve times the deliveries a node has
in flight at once, so rows are taken, failed and waiting for their retry when the kill lands. (It
took 500 before: every one refused again at each retry, its backoff growing while the sends went
on, and after the restart the test waited out the longest of those backoffs.) The server is
killed with SIGKILL, the receiver comes up, the server restarts on the same database: every
message's delivery arrives, at least once, a repeat always under the same ``X-Parley-Delivery``
(SQLite and PostgreSQL). On PostgreSQL the rows the killed server had taken are taken again when
their lease ends: a 3 s lease (above a 2 s delivery timeout, as the settings demand) instead of a
minute.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.databases import fresh_postgres_database, postgres_url
from tests.durability.test_kill9 import WAIT, crash_place, free_port, register, server
from tests.receiver import receiving

MESSAGES = 100  # > 8, the deliveries a node has in flight at once
SECRET = "durable-secret"


async def hook(url: str, token: str, target: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=WAIT, headers=headers) as http:
        body = {"url": target, "events": ["message"], "secret": SECRET}
        response = await http.post("/api/topics/general/webhooks", json=body)
        assert response.status_code == 201, response.text


async def crash_and_deliver(tmp_path: Path, **env: str) -> None:
    place = crash_place(
        tmp_path,
        PARLEY_WEBHOOK_ALLOW_HOSTS="127.0.0.1",
        PARLEY_WEBHOOK_RETRY_BASE="0.05",
        PARLEY_WEBHOOK_LEASE="3",
        PARLEY_WEBHOOK_TIMEOUT="2",
        **env,
    )
    port, receiver_port = free_port(), free_port()
    url, target = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{receiver_port}/hook"
    async with server(place, port) as process:
        token = await register(url, "alice")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, timeout=WAIT, headers=headers) as http:
            assert (await http.post("/api/topics", json={"name": "general"})).status_code == 201
        await hook(url, token, target)
        ids = await _sends(url, token)
        process.send_signal(signal.SIGKILL)

    async with receiving(receiver_port) as receiver, server(place, port):
        arrived: dict[int, set[str]] = {}
        async with asyncio.timeout(90):
            while set(arrived) != set(ids):
                received = await receiver.next(timeout=60)
                assert received.signed_with(SECRET)
                data: dict[str, Any] = received.data
                arrived.setdefault(data["message"]["id"], set()).add(received.headers["X-Parley-Delivery"])
    assert all(len(deliveries) == 1 for deliveries in arrived.values())  # repeats keep their id


async def _sends(url: str, token: str) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=WAIT, headers=headers) as http:
        window = asyncio.Semaphore(20)

        async def one(i: int) -> int:
            async with window:
                sent = await http.post("/api/messages", json={"topic": "general", "body": f"m{i}"})
                assert sent.status_code == 201, sent.text
                return int(sent.json()["id"])

        return list(await asyncio.gather(*(one(i) for i in range(MESSAGES))))


async def test_pending_deliveries_survive_kill_9_on_sqlite(tmp_path):
    await crash_and_deliver(tmp_path)


@pytest.mark.postgres
async def test_pending_deliveries_survive_kill_9_on_postgresql(tmp_path):
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        await crash_and_deliver(tmp_path, PARLEY_DATABASE_URL=url)
