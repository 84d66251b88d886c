"""Every refusal class is counted in /metrics and logged once per address and class a minute
(issue 36, item 7): each triggered for real against a live server, twice from one address."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import socketio

from server.refusals import Refusals
from tests.edge.sio.logs import Records, captured
from tests.edge.sio.test_slow_consumer import closed_by_server, stalled_subscriber
from tests.support import WAIT, LiveServer, running
from tests.support import test_settings as settings_with

OTHER = "127.0.0.2"  # a loopback address of its own: the test's HTTP client (127.0.0.1) is not bounded


@asynccontextmanager
async def server(tmp_path: Path, **overrides: Any) -> AsyncIterator[LiveServer]:
    async with running(settings_with(tmp_path / "data", **overrides)) as live:
        yield live


async def refusals(live: LiveServer, reason: str) -> float:
    """``parley_refusals_total{reason=...}`` as /metrics shows it."""
    text = (await live.http.get("/metrics")).text
    found = re.search(rf'^parley_refusals_total{{reason="{reason}"}} (\S+)$', text, re.MULTILINE)
    assert found is not None, text
    return float(found.group(1))


async def counted(live: LiveServer, reason: str, wanted: float) -> bool:
    """Whether /metrics shows ``wanted`` refusals of ``reason`` within a bounded time."""
    async with asyncio.timeout(3 * WAIT):
        while await refusals(live, reason) != wanted:
            await asyncio.sleep(0.05)  # polling the outcome, bounded above; not a synchronisation
    return True


def lines(logged: Records, reason: str) -> list[str]:
    """The addresses of the log lines of ``reason``'s refusals."""
    return [r.__dict__["address"] for r in logged.records if r.__dict__.get("refusal") == reason]


async def test_connections_past_the_address_bound_are_counted_and_logged_once(tmp_path: Path) -> None:
    async with server(tmp_path, request_timeout=30.0, max_connections_per_address=2) as live:
        parts = urlsplit(live.url)
        with captured("parley.refusals") as logged:
            held = [
                await asyncio.open_connection(parts.hostname, parts.port, local_addr=(OTHER, 0))
                for _ in range(2)
            ]
            for _ in range(2):
                reader, writer = await asyncio.open_connection(
                    parts.hostname, parts.port, local_addr=(OTHER, 0)
                )
                async with asyncio.timeout(WAIT):
                    assert await reader.read() == b""  # refused: closed before a byte is read
                writer.close()
            assert await counted(live, "address_bound", 2.0)
        for _reader, writer in held:
            writer.close()
        assert lines(logged, "address_bound") == [OTHER]


async def test_sockets_past_the_per_user_bound_are_counted_and_logged_once(tmp_path: Path) -> None:
    async with server(tmp_path, max_connections_per_user=1) as live:
        token = await live.register("bob")
        await live.connect("bob", token)
        with captured("parley.refusals") as logged:
            for _ in range(2):
                extra = socketio.AsyncClient(reconnection=False)
                with pytest.raises(socketio.exceptions.ConnectionError):  # rate_limited
                    await extra.connect(
                        live.url, auth={"token": token}, transports=["websocket"], wait_timeout=WAIT
                    )
            assert await counted(live, "user_bound", 2.0)
        assert lines(logged, "user_bound") == ["127.0.0.1"]


async def test_bodies_past_the_cap_are_counted_and_logged_once(tmp_path: Path) -> None:
    async with server(tmp_path, max_body_bytes=1024, max_http_buffer_size=1024) as live:
        with captured("parley.refusals") as logged:
            big = {"username": "bob", "password": "x" * 2000}
            assert (await live.http.post("/api/users", json=big)).status_code == 413
            # Engine.IO's own cap: a polling session's POST declaring more than maxHttpBufferSize
            opened = (await live.http.get("/socket.io/?EIO=4&transport=polling")).text
            sid = orjson.loads(opened[1:])["sid"]
            oversized = await live.http.post(
                f"/socket.io/?EIO=4&transport=polling&sid={sid}", content=b"4" * 2000
            )
            assert oversized.status_code == 413
            assert await counted(live, "body_cap", 2.0)
        assert lines(logged, "body_cap") == ["127.0.0.1"]


async def test_events_past_the_rate_limit_are_counted_and_logged_once(tmp_path: Path) -> None:
    async with server(tmp_path, socket_burst=3, socket_rate=0.01) as live:
        alice = await live.user("alice")
        with captured("parley.refusals") as logged:
            answers = [await alice.call("topic:list") for _ in range(5)]
            limited = [a for a in answers if not a["ok"] and a["error"]["code"] == "rate_limited"]
            assert len(limited) >= 2
            assert await counted(live, "rate_limit", float(len(limited)))
        assert lines(logged, "rate_limit") == ["127.0.0.1"]


async def test_rest_requests_refused_rate_limited_are_counted(tmp_path: Path) -> None:
    async with server(tmp_path, register_per_hour=1) as live:
        await live.register("bob")
        with captured("parley.refusals") as logged:
            for name in ("carol", "dave"):
                answer = await live.http.post(
                    "/api/users", json={"username": name, "password": "password123"}
                )
                assert answer.status_code == 429
            assert await counted(live, "rate_limit", 2.0)
        assert lines(logged, "rate_limit") == ["127.0.0.1"]


async def test_slow_consumers_are_counted_and_logged_once(tmp_path: Path) -> None:
    settings: dict[str, Any] = {
        "outgoing_queue_bytes": 64 * 1024,
        "socket_burst": 10_000,
        "socket_rate": 10_000.0,
    }
    async with server(tmp_path, **settings) as live:
        alice = await live.user("alice")
        await alice.ok("topic:create", {"name": "flood"})
        stalled = []
        for name in ("bob", "carol"):
            token = await live.register(name)
            stalled.append(await stalled_subscriber(live, token, "flood"))
        with captured("parley.refusals") as logged:
            for start in range(0, 4000, 50):  # until both are cut: the kernel takes some MB first
                body = "z" * 3900
                sends = (
                    alice.ok("message:send", {"topic": "flood", "body": f"{i} {body}"})
                    for i in range(start, start + 50)
                )
                await asyncio.gather(*sends)
                if await refusals(live, "slow_consumer") == 2.0:
                    break
            assert await counted(live, "slow_consumer", 2.0)
        for ws in stalled:
            assert await closed_by_server(ws)
        assert lines(logged, "slow_consumer") == ["127.0.0.1"]
        assert "parley_slow_consumers_closed_total 2.0" in (await live.http.get("/metrics")).text


# The throttle itself: a minute per address and class, bounded memory ----------------------------


class Count:
    def __init__(self) -> None:
        self.value = 0.0

    def inc(self) -> None:
        self.value += 1


def test_a_refusal_is_logged_again_once_its_minute_passed_and_memory_stays_bounded() -> None:
    now = [0.0]
    counts: dict[str, Count] = {}

    def counter(reason: str) -> Count:
        return counts.setdefault(reason, Count())

    refused = Refusals(counter, every=60.0, remembered=3, clock=lambda: now[0])
    with captured("parley.refusals") as logged:
        for second in (0.0, 1.0, 59.0):  # one line in the minute
            now[0] = second
            refused.refused("rate_limit", "10.0.0.1")
        refused.refused("body_cap", "10.0.0.1")  # another class: a line of its own
        now[0] = 60.5
        refused.refused("rate_limit", "10.0.0.1")  # the minute passed: logged again
        for address in range(100):  # a flood from many addresses: each logged, at most 3 remembered
            refused.refused("address_bound", f"10.1.0.{address}")
    assert [(r.__dict__["refusal"], r.__dict__["address"]) for r in logged.records][:3] == [
        ("rate_limit", "10.0.0.1"),
        ("body_cap", "10.0.0.1"),
        ("rate_limit", "10.0.0.1"),
    ]
    assert len(logged.records) == 103
    assert all(r.levelno == logging.WARNING for r in logged.records)
    assert counts["rate_limit"].value == 4 and counts["address_bound"].value == 100
    assert len(refused) <= 3
