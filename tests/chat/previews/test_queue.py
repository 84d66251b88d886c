"""The previews' queue (PROTOCOL.md section 13): a new message with links is its own entry, so its
send writes nothing but the message; a worker takes it once (on PostgreSQL a lease only one node's
insert gets), and once it is done the message leaves the queue, previews or none.

The servers of the repository's tests run with previews off (no worker): the test takes the
messages itself, through the repository the workers use, on a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from db.sends_sqlite import SqliteSendStore
from server.chat.kernel.schemas import Target
from tests.support import LiveServer, running
from tests.support import test_settings as settings_for

LOBBY = Target(topic="lobby")
WEEK = timedelta(days=7)


async def sent_with_links(live_server: LiveServer, *bodies: str) -> list[int]:
    chat = live_server.chat
    alice = await chat.users.authenticate(await live_server.register("alice"))
    return [(await chat.messages.send(alice, LOBBY, body)).id for body in bodies]


async def test_a_send_with_a_link_runs_its_message_insert_and_no_queue_statement(tmp_path) -> None:
    """Previews on (the link's address is refused by the guard: nothing leaves the machine)."""
    async with running(settings_for(tmp_path / "data", previews=True)) as live_server:
        await a_link_send_runs_one_insert(live_server)


async def a_link_send_runs_one_insert(live_server: LiveServer) -> None:
    chat = live_server.chat
    assert chat.preview_worker is not None
    alice = await chat.users.authenticate(await live_server.register("alice"))
    await chat.messages.send(alice, LOBBY, "warm-up")  # the directory knows the topic
    store = chat.db._sends
    assert isinstance(store, SqliteSendStore)
    statements: list[str] = []
    loop = asyncio.get_running_loop()
    on_its_thread = store._thread  # the store's connection is its thread's

    def trace(callback: object) -> None:
        store._connection().set_trace_callback(callback)  # type: ignore[arg-type]

    await loop.run_in_executor(on_its_thread, trace, statements.append)
    try:
        await chat.messages.send(alice, LOBBY, "see http://127.0.0.1:9/notes")
    finally:
        await loop.run_in_executor(on_its_thread, trace, None)

    inserts = [s for s in dict.fromkeys(statements) if s.startswith("INSERT")]  # traced per step
    assert len(inserts) == 1 and inserts[0].startswith("INSERT INTO messages ")
    assert not [s for s in statements if "preview" in s]


@pytest.mark.both_databases
async def test_a_new_message_with_links_waits_until_a_worker_is_done_with_it(live_server) -> None:
    linked, plain = await sent_with_links(live_server, "see https://example.com/a", "no link here")
    db = live_server.chat.db
    now = datetime.now(UTC)
    async with db.read() as repos:
        assert await repos.previews.waiting(now - WEEK) == 1

    async with db.write() as repos:
        taken = await repos.previews.due(now, now + timedelta(seconds=30), 8, since=now - WEEK)
    assert taken == [linked] and plain not in taken
    async with db.write() as repos:  # leased: another worker finds nothing
        assert await repos.previews.due(now, now + timedelta(seconds=30), 8, since=now - WEEK) == []
        await repos.previews.drop(linked)  # done, with no preview to show

    async with db.read() as repos:
        assert await repos.previews.waiting(now - WEEK) == 0
        assert (await repos.previews.targets([linked]))[linked].previews == ()


@pytest.mark.both_databases
async def test_two_workers_taking_at_once_never_take_the_same_new_message(live_server) -> None:
    ids = await sent_with_links(live_server, *(f"#{i} https://example.com/{i}" for i in range(12)))
    db = live_server.chat.db
    now = datetime.now(UTC)

    async def take() -> list[int]:
        async with db.write() as repos:
            return await repos.previews.due(now, now + timedelta(seconds=30), 8, since=now - WEEK)

    taken: list[int] = []
    async with asyncio.timeout(10):
        while len(taken) < len(ids):
            first, second = await asyncio.gather(take(), take())
            taken += first + second
    assert sorted(taken) == ids  # each once


async def test_sqlites_one_worker_passes_over_what_it_is_working_on_and_leases_nothing(live_server) -> None:
    ids = await sent_with_links(live_server, *(f"#{i} https://example.com/{i}" for i in range(3)))
    db = live_server.chat.db
    now = datetime.now(UTC)
    async with db.write() as repos:
        first = await repos.previews.due(now, now, 2, since=now - WEEK, lease_new=False)
        rest = await repos.previews.due(now, now, 8, since=now - WEEK, working=first, lease_new=False)
        assert await repos.previews.waiting(now - WEEK) == 3  # nothing written: still waiting
    assert first == ids[:2] and rest == ids[2:]


@pytest.mark.both_databases
async def test_a_message_older_than_the_wait_is_not_taken(live_server) -> None:
    await sent_with_links(live_server, "see https://example.com/old")
    db = live_server.chat.db
    later = datetime.now(UTC) + WEEK + timedelta(minutes=1)
    async with db.write() as repos:
        assert await repos.previews.due(later, later, 8, since=later - WEEK) == []
