"""The composition's kernel (``server.chat.kernel.wiring``) and the one composition root (``Chat``).

The order of the hub's sinks is declared by stage, not by the order of the builds; parts start in
the order they were registered and stop in reverse, only what started; a server's own parts run
only when a server is built. These are what ``Chat.__init__`` used to say in comments.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from db import migrate
from db.uow import Database
from server.chat.kernel.hub import MemoryHub
from server.chat.kernel.wiring import Stage, Wiring
from server.chat_factory import build_chat
from tests.support import test_settings as settings_for


class Named:
    def __init__(self, name: str, heard: list[str]) -> None:
        self.name, self.heard = name, heard

    async def deliver(self, event: object) -> None:
        self.heard.append(self.name)


@pytest.fixture
async def wiring(tmp_path: Path) -> Wiring:
    return Wiring(Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"), MemoryHub())


async def test_the_hub_hears_sinks_by_stage_and_in_registration_order_within_one(wiring):
    heard: list[str] = []
    wiring.sink(Stage.TRANSPORTS, Named("edge", heard))
    wiring.sink(Stage.SESSIONS, Named("sessions", heard))
    wiring.sink(Stage.SEND_PATH, Named("directory", heard))
    wiring.sink(Stage.SEND_PATH, Named("webhooks", heard))
    wiring.sink(Stage.IDENTITY, Named("known", heard))
    wiring.attach()

    await wiring.hub.publish(object())

    assert heard == ["directory", "webhooks", "known", "sessions", "edge"]


async def test_parts_start_in_order_and_stop_in_reverse_and_a_servers_own_only_when_serving(wiring):
    done: list[str] = []
    for name in ("hub", "presence", "worker"):
        wiring.part(
            name,
            lambda n=name: done.append(f"start {n}"),
            lambda n=name: done.append(f"stop {n}"),
            serving=name == "worker",
        )
    wiring.serving = False

    await wiring.start()
    await wiring.stop()

    assert done == ["start hub", "start presence", "stop presence", "stop hub"]
    assert wiring.parts == ["hub", "presence"]


async def test_a_part_that_fails_to_start_leaves_the_rest_unstarted_and_only_the_started_stop(wiring):
    done: list[str] = []

    def refuse() -> None:
        raise RuntimeError("no FTS5")

    wiring.part("hub", lambda: done.append("start hub"), lambda: done.append("stop hub"))
    wiring.part("search check", refuse, lambda: done.append("stop search check"))
    wiring.part("presence", lambda: done.append("start presence"), lambda: done.append("stop presence"))

    with pytest.raises(RuntimeError):
        await wiring.start()
    await wiring.stop()

    assert done == ["start hub", "stop hub"]


async def test_the_chat_declares_its_sinks_caches_first_then_identities_sessions_and_refill(tmp_path):
    chat = build_chat(settings_for(tmp_path / "data"))
    try:
        order = [(stage, type(sink).__name__) for stage, sink in chat.wiring.sinks]
    finally:
        await chat.db.dispose()

    assert order == [
        (Stage.SEND_PATH, "Blocks"),
        (Stage.SEND_PATH, "Roles"),
        (Stage.SEND_PATH, "Directory"),
        (Stage.SEND_PATH, "WebhookMap"),
        (Stage.IDENTITY, "KnownUsers"),
        (Stage.IDENTITY, "KnownTokens"),
        (Stage.IDENTITY, "EndedSessions"),
        (Stage.IDENTITY, "KnownKeys"),  # a revoked server key, refused before the next request
        (Stage.SESSIONS, "DeliveryService"),
        (Stage.SESSIONS, "SessionService"),
        (Stage.REFILL, "Refill"),
    ]


async def test_the_command_line_chat_starts_no_servers_part_and_a_servers_chat_starts_them(tmp_path):
    cli = build_chat(settings_for(tmp_path / "data"))
    server = build_chat(settings_for(tmp_path / "data"), serving=True)
    try:
        await migrate.upgrade(cli.db.engine)
        servers_own = {
            "node heartbeat",
            "webhook worker",
            "notifier",
            "search backfill",
            "housekeeping",
            "the public topic",
        }

        assert servers_own.isdisjoint(cli.wiring.parts)
        assert servers_own <= set(server.wiring.parts)
        await server.start()
        try:
            assert [n.node for n in (await server.topic_admin.stats()).nodes] == [server.nodes.name]
        finally:
            await server.stop()
        assert (await cli.topic_admin.stats()).nodes == []  # the server's row went with it
    finally:
        await cli.db.dispose()
        await server.db.dispose()
