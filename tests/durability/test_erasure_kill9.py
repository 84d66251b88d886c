"""An erasure interrupted by kill -9 resumes and finishes after the restart (PROTOCOL.md section 16).

A real ``parley serve`` erases an account whose 40 messages go one per transaction
(``PARLEY_ERASURE_BATCH=1``, ``PARLEY_ERASURE_PAUSE`` between them), and is killed with SIGKILL once
some of them, not all, are tombstones. The job row survives; after a restart on the same database
the worker takes it again (SQLite: the lease a killed process left is void at start; PostgreSQL:
once the lease ran out) and finishes: every message a tombstone, the account marked erased.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from db.uow import Database
from tests.cli.runner import PASSWORD, Place, place_in
from tests.databases import fresh_postgres_database, postgres_url
from tests.durability.test_kill9 import free_port, server

pytestmark = pytest.mark.timeout(240)

MESSAGES = 40
WAIT = 60.0  # bounds each wait on a loaded machine (a restart, the rest of the erasure)

STATE = text(
    "SELECT"
    " (SELECT count(*) FROM messages WHERE sender_id = :user AND deleted_at IS NOT NULL AND body = ''),"
    " (SELECT count(*) FROM erasure_jobs WHERE user_id = :user),"
    " (SELECT erased_at FROM users WHERE id = :user)"
)


@asynccontextmanager
async def database_for(kind: str, place: Place) -> AsyncIterator[tuple[Place, str]]:
    """The place the servers run in and the URL the test reads the database at."""
    if kind == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=True) as url:
            # A lease a killed node left runs out in 3 s (it must outlast the webhook timeout).
            yield (
                place.with_env(PARLEY_DATABASE_URL=url, PARLEY_WEBHOOK_LEASE="3", PARLEY_WEBHOOK_TIMEOUT="2"),
                url,
            )
        return
    yield place, f"sqlite+aiosqlite:///{place.database}"


async def state(db: Database, user_id: int) -> tuple[int, int, Any]:
    """(her messages that are erased tombstones, her pending jobs, her ``erased_at``)."""
    async with db.read() as repos:
        row = (await repos.session.execute(STATE, {"user": user_id})).one()
    return int(row[0]), int(row[1]), row[2]


async def until(db: Database, user_id: int, done: Any) -> tuple[int, int, Any]:
    async with asyncio.timeout(WAIT):
        while not done(found := await state(db, user_id)):
            await asyncio.sleep(0.02)
    return found


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_an_erasure_killed_in_the_middle_finishes_after_the_restart(tmp_path, kind: str) -> None:
    place = place_in(tmp_path).with_env(
        PARLEY_ERASURE_BATCH="1", PARLEY_ERASURE_PAUSE="0.1", PARLEY_DEFAULT_TOPICS="lobby"
    )
    async with database_for(kind, place) as (place, url):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        async with server(place, port) as process, httpx.AsyncClient(base_url=base, timeout=WAIT) as http:
            alice = await register(http, "alice")
            bob = await register(http, "bob")
            for i in range(MESSAGES):
                sent = await http.post(
                    "/api/messages", json={"topic": "lobby", "body": f"zanzibar {i}"}, headers=alice
                )
                assert sent.status_code == 201, sent.text
            me = (await http.get("/api/users/me", headers=alice)).json()["username"]
            assert me == "alice"
            db = Database(url)
            try:
                user_id = await user_id_named(db, "alice")
                erased = await http.request(
                    "DELETE", "/api/users/me", json={"password": PASSWORD}, headers=alice
                )
                assert erased.status_code == 202, erased.text
                middle = await until(db, user_id, lambda s: s[0] >= 3)
                process.send_signal(signal.SIGKILL)
                await process.wait()
                done, pending, when = await state(db, user_id)
                assert 0 < done < MESSAGES, middle
                assert (pending, when) == (1, None)  # the job survived the crash, unfinished
            finally:
                await db.engine.dispose()

        async with server(place, port), httpx.AsyncClient(base_url=base, timeout=WAIT) as http:
            db = Database(url)
            try:
                done, pending, when = await until(db, user_id, lambda s: s[2] is not None)
            finally:
                await db.engine.dispose()
            assert (done, pending) == (MESSAGES, 0)
            page = await http.get("/api/topics/lobby/messages?limit=100", headers=bob)
            assert page.status_code == 200, page.text
            texts = [m for m in page.json()["messages"] if m["type"] == "text"]
            assert len(texts) == MESSAGES
            assert {(m["sender"], m["body"], m["deleted"]) for m in texts} == {("[deleted]", "", True)}
            found = await http.get("/api/search", params={"q": "zanzibar"}, headers=bob)
            assert found.json()["hits"] == []


async def register(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    response = await http.post("/api/users", json={"username": name, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def user_id_named(db: Database, name: str) -> int:
    async with db.read() as repos:
        user = await repos.users.by_name(name)
    assert user is not None
    return user.id
