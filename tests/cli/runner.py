"""Run the ``parley`` command in subprocesses with an isolated environment."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

_SCRIPT = Path(sys.executable).parent / "parley"
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "server.cli"]
PASSWORD = "password123"
TIMEOUT = 30.0
STARTUP = 20.0


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Place:
    """Where a command runs: its working directory, data directory and environment."""

    cwd: Path
    data_dir: Path
    env: dict[str, str]

    def with_env(self, **extra: str) -> Place:
        return Place(self.cwd, self.data_dir, {**self.env, **extra})

    @property
    def database(self) -> Path:
        return self.data_dir / "parley.db"

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "jwt_secret"

    def users(self) -> list[tuple[str, str]]:
        """(username, password_hash) rows, read straight from the SQLite file."""
        with sqlite3.connect(self.database) as connection:
            return connection.execute("SELECT username, password_hash FROM users ORDER BY id").fetchall()


def place_in(tmp_path: Path) -> Place:
    """A working directory without .env, no PARLEY_* from outside, cheap bcrypt, quiet logs."""
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("PARLEY_")}
    data_dir = tmp_path / "data"
    env.update(PARLEY_DATA_DIR=str(data_dir), PARLEY_BCRYPT_ROUNDS="4", PARLEY_LOG_LEVEL="WARNING")
    return Place(tmp_path, data_dir, env)


async def parley(place: Place, *args: str, stdin: str = "") -> Result:
    """Run ``parley ARGS`` to completion (bounded) and collect its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        *COMMAND,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=place.cwd,
        env=place.env,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin.encode()), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


@asynccontextmanager
async def serving(place: Place, port: int) -> AsyncIterator[str]:
    """``parley serve --port PORT``; yields its URL once /healthz answers; stopped by PID."""
    async with serving_process(place, port) as (url, _process):
        yield url


@asynccontextmanager
async def serving_process(
    place: Place, port: int, *command: str, ready: str = "/healthz"
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """``parley COMMAND --port PORT`` (``serve`` by default) and its process, once ``ready`` answers 200."""
    log_path = place.cwd / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *COMMAND,
            *(command or ("serve",)),
            "--port",
            str(port),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            cwd=place.cwd,
            env=place.env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_healthy(process, url, log_path, ready)
        yield url, process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_until_healthy(
    process: asyncio.subprocess.Process, url: str, log_path: Path, ready: str = "/healthz"
) -> None:
    """Poll /healthz (bounded): the only way to know a subprocess server is listening."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP
    async with httpx.AsyncClient(base_url=url, timeout=2) as http:
        while True:
            if process.returncode is not None:
                raise AssertionError(
                    f"parley serve exited with {process.returncode}:\n{log_path.read_text()}"
                )
            try:
                if (await http.get(ready)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if loop.time() > deadline:
                raise AssertionError(
                    f"parley serve did not answer within {STARTUP}s:\n{log_path.read_text()}"
                )
            await asyncio.sleep(0.05)
