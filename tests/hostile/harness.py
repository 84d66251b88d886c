"""A real ``parley serve`` for hostile input, and what each hostile case checks afterwards.

One subprocess per test module (SQLite, a port picked free, cheap bcrypt, a
one-second connect timeout, its log in a file). A ``Watch`` taken before the
hostile input checks afterwards: how many packets were counted undecodable;
that no chat row was written; that another client, connected before, still
gets its ``message:send`` acknowledged; that no traceback reached the log
since the case began (the log is read after that round trip, so what the
hostile input made the server write is there by then).
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import socketio

from tests.cli.runner import COMMAND

SECRET = "h" * 40
PASSWORD = "password123"
WAIT = 5.0
STARTUP = 20.0
CONNECT_TIMEOUT = 1.0
CHAT_TABLES = ("users", "topics", "memberships", "messages")
TRACEBACK = re.compile(r"Traceback|Exception in ASGI application|exception was never retrieved")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """The running subprocess: where it listens, its files, and two users' tokens."""

    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log: Path
    http: httpx.Client
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"

    def rows(self) -> dict[str, int]:
        """Rows per chat table, read from the server's SQLite file read-only."""
        uri = f"file:{self.data_dir / 'parley.db'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in CHAT_TABLES}

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert found, status
        return int(found.group(1)) / 1024

    def log_size(self) -> int:
        return self.log.stat().st_size

    def tracebacks_since(self, offset: int) -> list[str]:
        with self.log.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
        return [line for line in text.splitlines() if TRACEBACK.search(line)]

    def undecodable(self) -> float:
        metrics = self.http.get("/metrics").text
        found = re.search(r"^parley_undecodable_packets_total (\S+)$", metrics, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    def watch(self) -> Watch:
        """The state a case compares with after its hostile input."""
        return Watch(self, self.rows(), self.log_size(), self.undecodable())


@dataclass
class Watch:
    server: Server
    rows: dict[str, int]
    log_offset: int
    undecodable: float

    def nothing_stored(self) -> None:
        assert self.server.rows() == self.rows, "the hostile input changed stored state"

    def counted(self, expected: int) -> None:
        assert self.server.undecodable() - self.undecodable == expected

    async def others_still_served(self, bystander: socketio.AsyncClient) -> None:
        """The bystander's send round trip, then: the log holds no traceback since the case began."""
        assert bystander.connected, "the bystander was disconnected"
        ack = await bystander.call("message:send", {"topic": "lobby", "body": "still here"}, timeout=WAIT)
        assert ack["ok"] is True, ack
        assert self.server.tracebacks_since(self.log_offset) == []


@contextmanager
def parley_serve(tmp: Path) -> Iterator[Server]:
    """``parley serve`` on a free port; registers ``mallory`` (hostile) and ``bob`` (bystander)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PARLEY_")}
    env.update(
        PARLEY_DATA_DIR=str(tmp / "data"),
        PARLEY_JWT_SECRET=SECRET,
        PARLEY_BCRYPT_ROUNDS="4",
        PARLEY_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        PARLEY_LOG_LEVEL="WARNING",
    )
    port = free_port()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*COMMAND, "serve", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, cwd=tmp, env=env
        )
    url = f"http://127.0.0.1:{port}"
    server = Server(process, url, tmp / "data", log, httpx.Client(base_url=url, timeout=WAIT))
    try:
        _wait_until_healthy(server)
        for name in ("mallory", "bob"):
            answer = server.http.post("/api/users", json={"username": name, "password": PASSWORD})
            assert answer.status_code == 201, answer.text
            server.tokens[name] = answer.json()["token"]
        joined = server.http.post(
            "/api/topics/lobby/subscribe", headers={"Authorization": f"Bearer {server.tokens['bob']}"}
        )
        assert joined.status_code == 200, joined.text
        yield server
    finally:
        server.http.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(server: Server) -> None:
    """Poll /healthz (bounded): the only way to know the subprocess listens."""
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"parley serve exited:\n{server.log.read_text()}")
        try:
            if server.http.get("/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"parley serve did not answer within {STARTUP} s:\n{server.log.read_text()}")


@asynccontextmanager
async def bystander(server: Server) -> AsyncIterator[socketio.AsyncClient]:
    """``bob``, connected over WebSocket before the hostile input arrives."""
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        server.url, auth={"token": server.tokens["bob"]}, transports=["websocket"], wait_timeout=WAIT
    )
    try:
        yield client
    finally:
        await client.disconnect()
