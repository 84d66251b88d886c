"""The relay table: what the command line writes in its transaction, a server's RelayHub reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from db.migrate import upgrade
from db.uow import Database
from server.adapters.cluster.db_relay import RelayHub, encode
from server.chat.kernel.events import Event, SessionsRevoked, TopicRenamed, ToTopic


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def deliver(self, event: Event) -> None:
        self.events.append(event)


async def test_a_server_hears_the_events_committed_after_it_started_once_each(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"
    command, server = Database(url), Database(url)
    await upgrade(command.engine)
    command.relay = encode
    try:
        async with command.write() as repos:
            repos.record(SessionsRevoked(1))  # before the server started: stale, never heard
        hub, recorder = RelayHub(server, interval=3600), Recorder()
        hub.attach(recorder)
        await hub.start()
        renamed = TopicRenamed(7, "ops", "Operations", ToTopic(7))
        async with command.write() as repos:
            repos.record(SessionsRevoked(2), renamed)
        await hub.read_relay()
        await hub.read_relay()
        assert recorder.events == [SessionsRevoked(2), renamed]
        await hub.stop()
    finally:
        await command.dispose()
        await server.dispose()


async def test_a_rollback_leaves_nothing_to_relay_and_pruning_keeps_the_newest_row(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"
    database = Database(url)
    await upgrade(database.engine)
    database.relay = encode
    try:
        try:
            async with database.write() as repos:
                repos.record(SessionsRevoked(1))
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
        async with database.read() as repos:
            assert await repos.relay.after(0) == []
        for user_id in (1, 2):
            async with database.write() as repos:
                repos.record(SessionsRevoked(user_id))
        async with database.write() as repos:
            await repos.relay.prune(datetime.now(UTC) + timedelta(days=1))
        async with database.read() as repos:
            assert [row_id for row_id, _ in await repos.relay.after(0)] == [2]
    finally:
        await database.dispose()
