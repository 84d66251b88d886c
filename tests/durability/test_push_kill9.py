"""A push survives kill -9 between its claim and its answer, and is delivered once after the
restart (PROTOCOL.md section 15: a durable outbox, never sent twice after a 2xx).

A real ``parley serve`` process (push delay 0) takes a direct message to bob, who has a push
subscription at the test's push service and no socket. The push service holds the first push
unanswered: the server has claimed the row and sent it, and has no answer to record. The server
is killed with SIGKILL and started again on the same database and data directory (so the same
VAPID key, which the push service checks): the push is sent again and answered 201, once; a
later message's push arrives after it and no repeat comes before. On PostgreSQL the killed
server's lease must end first: 3 s (above the 2 s timeout, as the settings demand).
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from tests.databases import fresh_postgres_database, postgres_url
from tests.durability.test_kill9 import WAIT, crash_place, free_port, register, server
from tests.push_service import HANG, push_service


async def send(url: str, token: str, body: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=WAIT, headers=headers) as http:
        sent = await http.post("/api/messages", json={"to": "bob", "body": body})
        assert sent.status_code == 201, sent.text
        return int(sent.json()["id"])


async def crash_and_push(tmp_path: Path, **env: str) -> None:
    place = crash_place(
        tmp_path,
        PARLEY_PUSH_ALLOW_HOSTS="127.0.0.1",
        PARLEY_PUSH_DELAY="0",
        PARLEY_WEBHOOK_RETRY_BASE="0.05",
        PARLEY_WEBHOOK_LEASE="3",
        PARLEY_WEBHOOK_TIMEOUT="2",
        **env,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with push_service() as pushes:
        async with server(place, port) as process:
            alice, bob = await register(url, "alice"), await register(url, "bob")
            async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
                headers = {"Authorization": f"Bearer {bob}"}
                pushes.public_key = (await http.get("/api/push/key", headers=headers)).json()["public_key"]
                body = pushes.browser("bob").subscription
                subscribed = await http.post("/api/push/subscriptions", json=body, headers=headers)
                assert subscribed.status_code == 201, subscribed.text
            pushes.script = [HANG]
            first = await send(url, alice, "are you there?")
            held = await pushes.next(timeout=WAIT)  # claimed and sent; no answer comes
            assert held.payload["id"] == first and held.status == HANG
            process.send_signal(signal.SIGKILL)

        async with server(place, port):
            again = await pushes.next(timeout=WAIT)
            assert again.problem is None and again.payload["id"] == first and again.status == 201
            control = await send(url, alice, "control")
            assert (await pushes.next(timeout=WAIT)).payload["id"] == control
        assert [p.payload["id"] for p in pushes.accepted] == [first, control]


async def test_a_push_claimed_when_the_server_was_killed_is_delivered_once_on_sqlite(tmp_path):
    await crash_and_push(tmp_path)


@pytest.mark.postgres
async def test_a_push_claimed_when_the_server_was_killed_is_delivered_once_on_postgresql(tmp_path):
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        await crash_and_push(tmp_path, PARLEY_DATABASE_URL=url)
