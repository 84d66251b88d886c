"""A PostgreSQL of a test's own, in a temporary folder on its own port, that the test may stop,
start again and whose backends it may terminate.

Fault tests must not take the shared PostgreSQL (127.0.0.1:5432) away from the other tests, so
each runs ``initdb`` into a folder of its own (trust authentication, its unix socket in that
folder too) and ``pg_ctl`` on a free port: ``stop`` is ``pg_ctl stop -m fast`` (or ``immediate``:
a crash), ``start`` brings the same cluster back on the same port, with what it had stored.
``terminate_backends`` ends every other backend of the test database with
``pg_terminate_backend``, from a connection of its own; ``pause``/``resume`` SIGSTOP/SIGCONT the
cluster's processes (a hang: connections open, nothing answers). The server binaries refuse to run as
root: as root, the cluster belongs to the ``postgres`` account. Only this cluster is stopped,
always at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.ports import free_port

READY = 30.0  # seconds a pg_ctl start or stop may take
DATABASE = "parley"


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.skip("the PostgreSQL server binaries (initdb, pg_ctl) are not on this machine")
    return Path(initdb).parent


class OwnPostgres:
    def __init__(self) -> None:
        self.bin = _binaries()
        # Not pytest's tmp_path: its parents are root's alone, and the cluster may be postgres's.
        self.folder = Path(tempfile.mkdtemp(prefix="parley-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{DATABASE}"
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"
        self._user: dict[str, Any] = {}
        self._paused: list[int] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._user = {"user": account.pw_uid, "group": account.pw_gid}

    def _run(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            timeout=READY,
            cwd=self.folder,
            **self._user,
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start the cluster (again) on its port; returns once it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            str(int(READY)),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "postgres.log"),
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown that ends the sessions; ``immediate``: a crash."""
        self._run("pg_ctl", "stop", "-w", "-t", str(int(READY)), "-D", str(self.data), "-m", mode)

    def postmaster(self) -> int:
        """The postmaster's PID (``postmaster.pid``'s first line)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def processes(self) -> list[int]:
        """The postmaster's PID and its children's, from /proc."""
        postmaster = self.postmaster()
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    children.append(int(stat.parent.name))
        return [postmaster, *children]

    def pause(self) -> None:
        """SIGSTOP the cluster's processes: connections stay open and nothing answers (a hang).

        The postmaster first, and its children once it has stopped: it forks a backend for each
        new connection, and one forked between reading /proc and the signals was left running.
        The nodes' probe connected through it and was answered, so they took the hang for load
        and held a send until the end (a loaded CI run)."""
        postmaster = self.postmaster()
        os.kill(postmaster, signal.SIGSTOP)
        stat = Path(f"/proc/{postmaster}/stat")
        deadline = time.monotonic() + 10
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "T":  # the signal is taken at once,
            if time.monotonic() > deadline:  # but a process running on the other core stops on
                raise TimeoutError("the postmaster did not stop")  # its next scheduling point
            time.sleep(0.001)
        self._paused = self.processes()
        for pid in self._paused[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self._paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._paused = []

    async def terminate_backends(self) -> int:
        """``pg_terminate_backend`` every other backend of the test database; how many were."""
        admin = await asyncpg.connect(self.dsn)
        try:
            ended = await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid != pg_backend_pid()",
                DATABASE,
            )
        finally:
            await admin.close()
        return sum(1 for row in ended if row[0])

    async def create_database(self) -> None:
        admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await admin.close()

    def destroy(self) -> None:
        self.resume()
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [str(self.bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w"],
                capture_output=True,
                timeout=READY,
                cwd=self.folder,
                **self._user,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


@asynccontextmanager
async def own_postgres() -> AsyncIterator[OwnPostgres]:
    """A started cluster of the test's own with an empty database ``parley``; removed at the end."""
    instance = OwnPostgres()
    try:
        await asyncio.to_thread(instance.init)
        await asyncio.to_thread(instance.start)
        await instance.create_database()
        yield instance
    finally:
        await asyncio.to_thread(instance.destroy)
