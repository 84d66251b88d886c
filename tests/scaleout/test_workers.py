"""``parley serve --workers 2`` on one host: two processes on one port, WebSocket only, one
conversation whichever worker each socket landed on (real processes, Redis, PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import uuid
from pathlib import Path

import pytest

from tests.cli.runner import COMMAND, STARTUP, client_libraries_mapped, place_in
from tests.databases import fresh_postgres_database, postgres_url
from tests.durability.test_kill9 import free_port, until_healthy
from tests.scaleout.conftest import redis_url
from tests.scaleout.test_node_crash import connect, register

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
USERS = 8
STARVED = 7.0  # seconds a worker is stopped: past uvicorn's default health check (5 s)


def worker_pids(parent: int) -> list[int]:
    """uvicorn's workers among the children of ``parent`` (not multiprocessing's tracker), from /proc."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


async def test_two_workers_serve_one_conversation_over_websocket(tmp_path: Path):
    async with fresh_postgres_database(postgres_url(), migrated=True) as database:
        place = place_in(tmp_path).with_env(
            PARLEY_DATABASE_URL=database,
            PARLEY_REDIS_URL=redis_url(),
            PARLEY_REDIS_CHANNEL=f"workers-{uuid.uuid4().hex[:8]}",
            PARLEY_TRANSPORTS="websocket",
        )
        port, log_path = free_port(), tmp_path / "serve.log"
        with log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *COMMAND, "serve", "--workers", "2", "--port", str(port),
                stdout=log, stderr=log, cwd=place.cwd, env=place.env, start_new_session=True,
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            await until_healthy(process, url, log_path)
            names = [f"user{n}" for n in range(USERS)]
            tokens = [await register(url, name) for name in names]
            clients = [await connect(url, name, token) for name, token in zip(names, tokens, strict=True)]
            await clients[0].ok("topic:create", {"name": "general"})
            for client in clients[1:]:
                await client.ok("topic:subscribe", {"topic": "general"})

            sent = await clients[-1].ok("message:send", {"topic": "general", "body": "to every worker"})

            for client in clients:
                assert (await client.next("message"))["id"] == sent["id"], client.username
            workers = sorted(worker_pids(process.pid))
            assert len(workers) == 2
            assert [client_libraries_mapped(pid) for pid in workers] == [[], []]  # server/worker.py

            # A worker that gets no core for longer than uvicorn's own 5 s health check is busy,
            # not hung: it keeps its sockets (the pause is the bound under test).
            os.kill(workers[0], signal.SIGSTOP)
            try:
                await asyncio.sleep(STARVED)
            finally:
                with contextlib.suppress(ProcessLookupError):  # killed by the supervisor: the assert says so
                    os.kill(workers[0], signal.SIGCONT)
            assert sorted(worker_pids(process.pid)) == workers
            again = await clients[0].ok("message:send", {"topic": "general", "body": "still here"})
            for client in clients:
                assert (await client.next("message"))["id"] == again["id"], client.username
            await asyncio.gather(*(client.close() for client in clients))
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)  # uvicorn stops its workers
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    os.killpg(process.pid, signal.SIGKILL)  # the group we started, nothing else
                    await process.wait()


async def test_connects_wait_for_the_workers_instead_of_being_refused(tmp_path: Path):
    """The supervisor's socket listens before any worker has started: a reconnect storm's
    connects wait in its queue. The database is a listener that never answers, so the workers
    stay in their start-up, and the test knows one is there: it has connected."""
    with socket.socket() as database:
        database.bind(("127.0.0.1", 0))
        database.listen()
        database.setblocking(False)
        place = place_in(tmp_path).with_env(
            PARLEY_DATABASE_URL=f"postgresql+asyncpg://parley@127.0.0.1:{database.getsockname()[1]}/parley",
            PARLEY_REDIS_URL=redis_url(),
            PARLEY_REDIS_CHANNEL=f"workers-{uuid.uuid4().hex[:8]}",
            PARLEY_TRANSPORTS="websocket",
        )
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            *COMMAND, "serve", "--workers", "2", "--port", str(port),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, cwd=place.cwd, env=place.env, start_new_session=True,
        )  # fmt: skip
        try:
            async with asyncio.timeout(STARTUP):
                held, _ = await asyncio.get_running_loop().sock_accept(database)
            with held:
                _reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
                writer.close()
                assert process.returncode is None
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # the group we started: the supervisor and its workers
            await process.wait()
