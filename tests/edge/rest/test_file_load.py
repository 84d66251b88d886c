"""Uploads under load (issue 23): 20 uploads of 5 MB at once while messages flow. Every file comes
back intact (by hash), and a message's round trip stays within noise of the same round trip
without uploads (printed for the report; bounded generously: a shared 2-core machine)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import LiveServer, bearer, send
from tests.support import test_settings as settings_for


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Pings as fast as they come back: the socket's event rate is not what is measured here."""
    return settings_for(tmp_path / "data", socket_burst=100_000, socket_rate=100_000.0)


UPLOADS = 20
SIZE = 5 * 1024 * 1024
PINGS = 40


async def round_trips(client, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds from ``message:send`` to its ack, one after another."""
    times = []
    for n in range(count):
        started = time.perf_counter()
        await send(client, {"topic": "lobby", "body": f"ping {n}"})
        times.append((time.perf_counter() - started) * 1000)
    return times


UPLOADER = """
import asyncio, json, sys
import httpx

async def main(url, token, paths):
    transport = httpx.AsyncHTTPTransport(retries=3)  # a refused connect is tried again
    async with httpx.AsyncClient(base_url=url, timeout=120, trust_env=False, transport=transport) as http:
        async def one(path):
            with open(path, "rb") as handle:
                response = await http.post(
                    "/api/files", files={"file": (path, handle)}, headers={"Authorization": "Bearer " + token}
                )
            return response.json()
        print(json.dumps(await asyncio.gather(*(one(p) for p in paths))))


asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
"""


async def upload_elsewhere(server: LiveServer, token: str, paths: list[Path]) -> list[dict[str, Any]]:
    """Upload ``paths`` at once from another process: the client's work must not share this test's
    event loop (the server's)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", UPLOADER, server.url, token, *map(str, paths), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    found: list[dict[str, Any]] = json.loads(out)
    return found


async def test_twenty_uploads_of_five_megabytes_while_messages_flow(live_server: LiveServer, tmp_path: Path):
    alice = await live_server.user("alice")
    token = await live_server.register("bob")
    quiet = await round_trips(alice, PINGS)
    blobs = [os.urandom(SIZE) for _ in range(UPLOADS)]
    paths = []
    for n, data in enumerate(blobs):
        paths.append(tmp_path / f"f{n}.bin")
        paths[-1].write_bytes(data)
    uploads = asyncio.ensure_future(upload_elsewhere(live_server, token, paths))
    busy: list[float] = []
    while not uploads.done():  # every round trip measured while uploads are under way
        busy += await round_trips(alice, 1)
    found = await uploads
    assert len(busy) >= 5, busy
    for data, file in zip(blobs, found, strict=True):
        assert file["sha256"] == hashlib.sha256(data).hexdigest()
        back = await live_server.http.get(file["url"], headers=bearer(token))
        assert hashlib.sha256(back.content).hexdigest() == file["sha256"]
    quiet_p50, busy_p50 = statistics.median(quiet), statistics.median(busy)
    sys.stderr.write(  # for the report (pytest -s)
        f"message round trip p50: {quiet_p50:.1f} ms quiet, {busy_p50:.1f} ms during {UPLOADS} uploads"
        f" ({len(busy)} messages, max {max(busy):.1f} ms)\n"
    )
    assert busy_p50 < max(10 * quiet_p50, 250), (quiet_p50, busy_p50)
