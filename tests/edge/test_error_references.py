"""Every unexpected failure, on every transport, answers ``internal`` with one reference id that
the server logged (ERROR, with the traceback) in the same line (``server.edge.errors.classify``).

The failures are real: a table the server needs is gone, or the echo upstream answers something
that cannot be kept in the transcript (an array nested past what the JSON encoder writes).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.edge.gateway.wsclient import opened
from tests.edge.sio.logs import Records, captured
from tests.edge.sio.test_echo import echo, echo_client
from tests.support import WAIT, LiveServer, bearer, running
from tests.support import test_settings as settings_with

DEEP = "answer too deep"
REFERENCE = re.compile(r"^internal error \(reference (\w+)\)$")


@asynccontextmanager
async def misbehaving_upstream() -> AsyncIterator[str]:
    """A WebSocket echo server that answers ``DEEP`` with an array nested 300 levels (valid JSON the
    server reads, but cannot write back into the transcript) and anything else with itself."""

    async def answer(ws: ServerConnection) -> None:
        async for frame in ws:
            payload = json.loads(frame)
            await ws.send("[" * 300 + "]" * 300 if payload == DEEP else json.dumps(payload))

    async with serve(answer, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def drop_messages(live: LiveServer) -> None:
    async with live.chat.db.engine.begin() as connection:  # a real failure: the table is gone
        await connection.execute(text("ALTER TABLE messages RENAME TO messages_gone"))


def logged_reference(logs: Records, message: str) -> str:
    """The reference of the one classified ERROR line, which carries the traceback. The server's
    background workers (push, notifier, previews) read the dropped table too and log their own
    unreferenced ERROR whenever their poll comes round: not the failure under test."""
    [failed] = [r for r in logs.records if r.levelno >= logging.ERROR and hasattr(r, "reference")]
    assert failed.exc_info is not None
    match = REFERENCE.match(message)
    assert match is not None, message
    assert failed.reference == match.group(1)  # type: ignore[attr-defined]
    return match.group(1)


async def test_a_rest_500_carries_the_reference_of_its_log_line(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    await drop_messages(live_server)

    with captured("parley") as logs:
        response = await live_server.http.get("/api/conversations", headers=bearer(token))

    assert response.status_code == 500, response.text
    assert response.json()["error"]["code"] == "internal"
    logged_reference(logs, response.json()["error"]["message"])


async def test_a_socketio_internal_ack_carries_the_reference_of_its_log_line(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    await live_server.app.state.chat_namespace.drain()  # her backlog is read before the table goes
    await drop_messages(live_server)

    with captured("parley") as logs:
        ack = await alice.call("history", {"topic": "lobby"})

    assert ack["ok"] is False and ack["error"]["code"] == "internal", ack
    logged_reference(logs, ack["error"]["message"])


async def test_a_gateway_1011_carries_the_reference_of_its_log_line(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    await drop_messages(live_server)  # the topics dialect's welcome reads the backlog

    with captured("parley") as logs:
        async with opened(live_server, f"/compat/topics/{token}") as ws:
            code, reason = await ws.closed()

    assert code == 1011, (code, reason)
    logged_reference(logs, reason)


async def test_an_unexpected_echo_failure_is_an_internal_ack_with_a_reference_and_the_socket_stays(
    tmp_path: Path,
) -> None:
    async with misbehaving_upstream() as url:
        async with running(settings_with(tmp_path / "data", echo_upstream=url, echo_timeout=2.0)) as live:
            client = await echo_client(live, "alice", await live.register("alice"))

            with captured("parley") as logs:
                failed: Any = await echo(client, DEEP)
            after = await echo(client, {"still": "there"})

    assert failed["ok"] is False and failed["error"]["code"] == "internal", failed
    logged_reference(logs, failed["error"]["message"])
    assert after == {"still": "there"}


async def test_an_unexpected_failure_on_the_echo_socket_is_an_error_frame_with_a_reference(
    tmp_path: Path,
) -> None:
    async with misbehaving_upstream() as url:
        async with running(settings_with(tmp_path / "data", echo_upstream=url, echo_timeout=2.0)) as live:
            token = await live.register("alice")
            link = live.url.replace("http://", "ws://") + f"/compat/echo/ws/echo?token={token}"
            with captured("parley") as logs:
                async with connect(link, open_timeout=WAIT) as ws:
                    await ws.send(DEEP)
                    failed = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                    await ws.send("still there")
                    after = await asyncio.wait_for(ws.recv(), WAIT)

    assert failed["error"]["code"] == "internal", failed
    logged_reference(logs, failed["error"]["message"])
    assert after == "still there"
