"""What the Socket.IO envelope logs: refusals and errors at INFO and above, each handled event only at DEBUG.

A log line per event costs about as much as a small handler, so successful
events are logged only when DEBUG is on; the metrics count every event
whatever the level.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from server.config import Settings
from tests.edge.sio.logs import captured
from tests.support import LiveServer
from tests.support import test_settings as settings_for


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return settings_for(tmp_path / "data", log_level=getattr(request, "param", "INFO"))


@pytest.fixture
def records(live_server: LiveServer) -> Iterator[list[logging.LogRecord]]:
    """Everything logged under ``parley`` from now on (after the app configured logging)."""
    with captured("parley") as logged:
        yield logged.records


async def test_at_info_a_handled_event_writes_no_log_line_and_is_counted(live_server, records):
    alice = await live_server.user("alice")
    records.clear()

    await alice.ok("topic:list", {})

    assert [r.getMessage() for r in records] == []
    metrics = (await live_server.http.get("/metrics")).text
    assert 'parley_socket_events_total{event="topic:list",outcome="ok"} 1.0' in metrics


async def test_every_event_is_counted_under_its_own_outcome(live_server):
    alice = await live_server.user("alice")
    for _ in range(3):
        await alice.ok("topic:list", {})
    for _ in range(2):
        assert (await alice.call("topic:subscribe", {"topic": 5}))["error"]["code"] == "invalid"

    metrics = (await live_server.http.get("/metrics")).text
    assert 'parley_socket_events_total{event="topic:list",outcome="ok"} 3.0' in metrics
    assert 'parley_socket_events_total{event="topic:subscribe",outcome="invalid"} 2.0' in metrics


async def test_at_info_a_refused_event_is_logged_with_its_outcome(live_server, records):
    alice = await live_server.user("alice")
    records.clear()

    ack = await alice.call("topic:subscribe", {"topic": 5})

    assert ack["error"]["code"] == "invalid"
    assert [(r.levelno, r.getMessage(), r.event, r.outcome) for r in records] == [  # type: ignore[attr-defined]
        (logging.INFO, "event", "topic:subscribe", "invalid")
    ]


@pytest.mark.parametrize("settings", ["DEBUG"], indirect=True)
async def test_at_debug_a_handled_event_is_logged_with_its_outcome_and_time(live_server, records):
    alice = await live_server.user("alice")
    records.clear()

    await alice.ok("topic:list", {})

    [line] = [r for r in records if r.getMessage() == "event"]
    assert (line.levelno, line.event, line.outcome) == (logging.DEBUG, "topic:list", "ok")  # type: ignore[attr-defined]
    assert line.ms >= 0  # type: ignore[attr-defined]


async def test_an_internal_error_is_logged_at_error_with_the_reference_the_client_got(live_server, records):
    alice = await live_server.user("alice")
    await live_server.app.state.chat_namespace.drain()  # her backlog is read before the table goes
    async with live_server.chat.db.engine.begin() as connection:  # a real failure: the table is gone
        await connection.execute(text("ALTER TABLE messages RENAME TO messages_gone"))
    records.clear()

    ack = await alice.call("history", {"topic": "lobby"})

    assert ack["error"]["code"] == "internal", ack
    reference = re.search(r"reference (\w+)", ack["error"]["message"])
    assert reference is not None, ack
    [failed] = [r for r in records if r.levelno >= logging.ERROR]
    assert (failed.getMessage(), failed.reference, failed.event) == (  # type: ignore[attr-defined]
        "event failed",
        reference.group(1),
        "history",
    )
    assert failed.exc_info is not None
