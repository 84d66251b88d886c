"""A Redis of a test's own, on its own port, that the test may kill, restart and pause.

Fault tests must not take the shared Redis (127.0.0.1:6379) away from the other tests, so each
starts ``redis-server`` here: ``kill`` is SIGKILL (a crash: connections refused), ``start``
brings a new one up on the same port (empty, as after a crash without persistence),
``pause``/``resume`` are SIGSTOP/SIGCONT (a hang: connections open, nothing answers). Only the
process started here is signalled, by its PID, and it is always stopped at the end.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import pytest
import redis.asyncio

from tests.ports import free_port

READY = 10.0  # seconds a redis-server may take to answer PING


class OwnRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        """A fresh redis-server on this port, answering PING before this returns."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not on the PATH")
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        client = redis.asyncio.Redis.from_url(self.url)
        try:
            async with asyncio.timeout(READY):
                while True:
                    with suppress(OSError, redis.exceptions.ConnectionError):
                        if await client.ping():
                            return
                    await asyncio.sleep(0.02)  # polls a process coming up; no event to wait on
        finally:
            await client.aclose()

    def kill(self) -> None:
        """SIGKILL: what a crash of the broker looks like to its clients."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None


@asynccontextmanager
async def own_redis(folder: Path) -> AsyncIterator[OwnRedis]:
    folder.mkdir(parents=True, exist_ok=True)
    instance = OwnRedis(folder)
    await instance.start()
    try:
        yield instance
    finally:
        instance.stop()
