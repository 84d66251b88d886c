"""Run the ``parley`` command with an isolated environment: in this process (``parley``), or as a
process of its own (``parley_process``, ``serving``) where the process itself is under test.

A ``parley`` process costs about a second of start-up (Python, then the chat service's imports);
the operator commands' tests ran 91 of them, about 600 s of a CI run's worker time. In this
process the same ``server.cli.main`` runs with the place's environment, working directory and
stdin, its stdout and stderr collected, in a thread of its own (it runs its own event loop, as
the command does); the test's loop goes on meanwhile. tests/cli/test_startup.py and
tests/cli/test_serve.py keep the process: exit codes, signals, the port, the start-up's cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from server.config import Settings

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


IN_PROCESS_LOCK = threading.Lock()  # one command at a time: it takes the process's environment
SERVING = ("serve", "conformance-server")  # run until stopped: only ever as a process


async def parley(place: Place, *args: str, stdin: str = "") -> Result:
    """Run ``parley ARGS`` to completion (bounded) in this process; exit code and output."""
    if args and args[0] in SERVING and "--help" not in args:
        return await parley_process(place, *args, stdin=stdin)
    thread = asyncio.to_thread(_run_in_process, place, list(args), stdin)
    return await asyncio.wait_for(thread, TIMEOUT)


def _run_in_process(place: Place, args: list[str], stdin: str) -> Result:
    from server.cli import main  # as the command loads it: after the environment is set

    out, err = io.StringIO(), io.StringIO()
    parley_logger = logging.getLogger("parley")
    kept = (parley_logger.handlers[:], parley_logger.level, parley_logger.propagate)
    with IN_PROCESS_LOCK, _environment(place.env), contextlib.chdir(place.cwd):
        # As in a process of its own: the package's records (WARNING by PARLEY_LOG_LEVEL) reach
        # stderr through logging's last resort, not the test's handlers.
        handler = logging.StreamHandler(err)
        handler.setLevel(place.env.get("PARLEY_LOG_LEVEL", "WARNING"))
        parley_logger.handlers[:] = [handler]
        parley_logger.propagate = False
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
        try:
            code = main(args)
        except SystemExit as exit:  # argparse's usage errors and --help
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
            parley_logger.handlers[:], level, parley_logger.propagate = kept
            parley_logger.setLevel(level)
    return Result(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def parley_process(place: Place, *args: str, stdin: str = "") -> Result:
    """Run ``parley ARGS`` as a process to completion (bounded); its exit code and output."""
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
async def serving(place: Place, port: int = 0) -> AsyncIterator[str]:
    """The server ``parley serve`` would run for ``place`` (its settings read from the place's
    environment and working directory), in this process on a port of its own; yields its URL.
    ``port`` is the process's only: tests of the process itself use ``serving_process``."""
    from tests.support import running

    with IN_PROCESS_LOCK, _environment(place.env), contextlib.chdir(place.cwd):
        settings = Settings()
    async with running(settings) as live:
        yield live.url


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


def client_libraries_mapped(pid: int) -> list[str]:
    """The compiled modules of python-socketio's client libraries (aiohttp, yarl, multidict) that
    process ``pid`` has loaded, from /proc: a server defers them (server/worker.py)."""
    mapped = {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if "/" in line}
    libraries = ("/aiohttp/", "/yarl/", "/multidict/")
    return sorted(path for path in mapped if any(library in path for library in libraries))

