"""The issue's probe as a command: two ``parley serve`` nodes through a broker or database fault.

Two nodes on a PostgreSQL and a Redis of this command's own (``initdb`` into a temporary folder,
``redis-server`` on a free port); alice on node A sends to the default topic every ``--pace``
seconds with a ``client_id``; bob stays connected on node B over a websocket. ``--before``
seconds in, the fault:

- ``redis-kill``: SIGKILL the redis-server, start a new (empty) one ``--outage`` seconds later;
- ``redis-pause``: SIGSTOP it (it hangs), SIGCONT ``--outage`` seconds later;
- ``pg-stop``: ``pg_ctl stop -m fast``, ``pg_ctl start`` ``--outage`` seconds later;
- ``pg-terminate``: ``pg_terminate_backend`` on every backend of the database, once.

Then ``--after`` seconds of sends, and a bounded wait for bob to have every acknowledged message.
The report is what the issue asks for, from the clients' own records and the database: sends
answered ok or with an error (and how slow the slowest answer was), acknowledged messages not
stored, errored sends stored after all, messages bob missed or got out of ``seq`` order, whether
bob had to reconnect, the time from the end of the fault to the next acknowledged send and to bob
having everything, and the nodes' log lines (error lines and tracebacks).

    .venv/bin/python -m bench.outage --fault redis-kill
    .venv/bin/python -m bench.outage --fault pg-stop --outage 3 --json out.json

Only the processes started here are signalled, by PID, and all of them are stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio

from bench.client import SioClient
from bench.load import http_session, out, register_users
from bench.procs import ServerProcess, free_port

FAULTS = ("redis-kill", "redis-pause", "pg-stop", "pg-terminate")
ANSWER_BOUND = 10.0  # a send unanswered this long counts as hanging
READY = 15.0


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        sys.exit(f"{name} not found (PostgreSQL's server binaries)")
    return found[-1]


class OwnPostgres:
    """A PostgreSQL cluster in a temporary folder on its own port, trust authentication."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "postgres"  # owned by the postgres user: initdb refuses to run as root
        self.port = free_port()
        self.data = self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/parley"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/parley"

    @staticmethod
    def _as_owner(command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            self._as_owner([_postgres_bin("pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    async def start(self, first: bool = False) -> None:
        if first:
            self.folder.mkdir()
            if os.geteuid() == 0:
                os.chmod(self.folder.parent, 0o755)
                shutil.chown(self.folder, "postgres")
            initdb = [_postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
            subprocess.run(
                self._as_owner(initdb),
                check=True,
                capture_output=True,
                timeout=120,
            )
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.folder / "postgres.log"), "-o", options, "start")
        if first:
            admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
            try:
                await admin.execute("CREATE DATABASE parley")
            finally:
                await admin.close()

    def stop(self) -> None:
        with suppress(subprocess.SubprocessError):
            self._pg_ctl("-m", "fast", "stop")

    async def terminate_backends(self) -> int:
        admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
        try:
            rows = await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'parley'"
            )
        finally:
            await admin.close()
        return len(rows)


class OwnRedis:
    """A redis-server on its own port, without persistence (a restart comes back empty)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            ["redis-server", *options],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.asyncio.Redis.from_url(self.url)
        try:
            async with asyncio.timeout(READY):
                while True:
                    with suppress(OSError, redis.exceptions.ConnectionError):
                        if await client.ping():
                            return
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    def signal(self, number: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, number)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)

    def stop(self) -> None:
        self.signal(signal.SIGCONT)
        self.kill()


@dataclass
class Send:
    client_id: str
    at: float
    answered_at: float
    ok: bool
    message_id: str | None = None
    seq: int | None = None
    error: str | None = None


@dataclass
class Record:
    sends: list[Send] = field(default_factory=list)
    received: list[tuple[float, str, int]] = field(default_factory=list)  # (when, id, seq)


async def sender(alice: SioClient, topic: str, pace: float, record: Record, stop: asyncio.Event) -> None:
    while not stop.is_set():
        client_id, started = uuid.uuid4().hex, time.monotonic()
        payload = {"topic": topic, "body": f"m{len(record.sends)}", "client_id": client_id}
        try:
            answer = await alice.call("message:send", payload, timeout=ANSWER_BOUND)
        except (TimeoutError, ConnectionError) as failure:
            answer = {"ok": False, "error": {"code": type(failure).__name__}}
        done = time.monotonic()
        if isinstance(answer, dict) and answer.get("ok"):
            data = answer["data"]
            record.sends.append(Send(client_id, started, done, True, data["id"], data["seq"]))
        else:
            error = answer.get("error") if isinstance(answer, dict) else answer
            code = error.get("code") if isinstance(error, dict) else str(error)
            record.sends.append(Send(client_id, started, done, False, error=str(code)))
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pace)


@asynccontextmanager
async def cluster(folder: Path) -> AsyncIterator[tuple[OwnRedis, OwnPostgres, ServerProcess, ServerProcess]]:
    async with AsyncExitStack() as stack:
        broker, database = OwnRedis(folder), OwnPostgres(folder)
        await broker.start()
        stack.callback(broker.stop)
        await database.start(first=True)
        stack.callback(database.stop)
        env = {
            "PARLEY_DATABASE_URL": database.url,
            "PARLEY_REDIS_URL": broker.url,
            "PARLEY_LOG_LEVEL": "INFO",
            "PARLEY_BCRYPT_ROUNDS": "4",
            "PARLEY_JWT_SECRET": secrets.token_hex(32),  # one deployment: a token works on both nodes
        }
        nodes = []
        for label in ("a", "b"):
            node = ServerProcess(env, label=f"node-{label}")
            await node.start(timeout=60)
            stack.push_async_callback(node.stop, 10.0, True)
            nodes.append(node)
        yield broker, database, nodes[0], nodes[1]


async def fault(kind: str, broker: OwnRedis, database: OwnPostgres, outage: float) -> None:
    if kind == "redis-kill":
        broker.kill()
        await asyncio.sleep(outage)
        await broker.start()
    elif kind == "redis-pause":
        broker.signal(signal.SIGSTOP)
        await asyncio.sleep(outage)
        broker.signal(signal.SIGCONT)
    elif kind == "pg-stop":
        await asyncio.to_thread(database.stop)
        await asyncio.sleep(outage)
        await database.start()
    else:
        out(f"terminated {await database.terminate_backends()} backends")


def log_facts(node: ServerProcess) -> dict[str, Any]:
    lines = node.log_path.read_text(errors="replace").splitlines() if node.log_path.exists() else []
    return {
        "error_lines": sum(1 for line in lines if " ERROR " in line or "ERROR:" in line),
        "warning_lines": sum(1 for line in lines if "WARNING" in line),
        "tracebacks": sum(1 for line in lines if line.startswith("Traceback")),
        "log": str(node.log_path),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="parley-outage-"))
    record = Record()
    async with cluster(folder) as (broker, database, a, b), http_session() as http:
        (_, alice_token), (_, bob_token) = await register_users(http, a.url, "outage", 2)
        alice, bob = SioClient(http, a.url, alice_token, "alice"), SioClient(http, b.url, bob_token, "bob")
        for client in (alice, bob):
            await client.connect()
        topic = "lobby"

        def on_event(event: str, payload: Any, _arrived: int) -> None:
            if event == "message" and payload.get("topic") == topic:
                record.received.append((time.monotonic(), payload["id"], payload["seq"]))

        bob.on_event = on_event
        await bob.wait_session()
        stop = asyncio.Event()
        sending = asyncio.create_task(sender(alice, topic, args.pace, record, stop))
        await asyncio.sleep(args.before)
        fault_at = time.monotonic()
        await fault(args.fault, broker, database, args.outage)
        fault_end = time.monotonic()
        await asyncio.sleep(args.after)
        stop.set()
        await sending
        acked = {s.message_id for s in record.sends if s.ok}
        with suppress(TimeoutError):
            async with asyncio.timeout(args.catch_up):
                while not acked <= {r[1] for r in record.received}:
                    await asyncio.sleep(0.1)
        bob_dropped = bob.dropped or bob.server_disconnects > 0
        await alice.close()
        await bob.close()
        stored = await stored_client_ids(database.dsn)
        report = summarize(args, record, stored, fault_at, fault_end)
        report["receiver_reconnected"] = bob_dropped
        report["node_a"], report["node_b"] = log_facts(a), log_facts(b)
        for node, name in ((a, "a"), (b, "b")):
            node.copy_log(folder / f"node-{name}.log")
            report[f"node_{name}"]["log"] = str(folder / f"node-{name}.log")
    return report


async def stored_client_ids(dsn: str) -> dict[str, int]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT client_id, count(*) AS n FROM messages WHERE client_id IS NOT NULL GROUP BY client_id"
        )
    finally:
        await connection.close()
    return {row["client_id"]: row["n"] for row in rows}


def summarize(
    args: argparse.Namespace, record: Record, stored: dict[str, int], fault_at: float, fault_end: float
) -> dict[str, Any]:
    ok = [s for s in record.sends if s.ok]
    errors = [s for s in record.sends if not s.ok]
    received_ids = [r[1] for r in record.received]
    seqs = [r[2] for r in record.received]
    arrival = {r[1]: r[0] for r in record.received}
    next_ack = min((s.answered_at for s in ok if s.at >= fault_end), default=None)
    caught_up = max((arrival.get(s.message_id or "", 0.0) for s in ok if s.at < fault_end), default=None)
    delays = sorted(arrival[s.message_id] - s.answered_at for s in ok if s.message_id in arrival)
    codes: dict[str, int] = {}
    for s in errors:
        codes[s.error or "?"] = codes.get(s.error or "?", 0) + 1
    return {
        "fault": args.fault,
        "outage_s": round(fault_end - fault_at, 2),
        "sends": len(record.sends),
        "sends_during_fault": sum(1 for s in record.sends if fault_at <= s.at < fault_end),
        "acked": len(ok),
        "errored": len(errors),
        "error_codes": codes,
        "slowest_answer_s": round(max((s.answered_at - s.at for s in record.sends), default=0.0), 3),
        "acked_not_stored": sum(1 for s in ok if stored.get(s.client_id, 0) == 0),
        "stored_twice": sum(1 for n in stored.values() if n > 1),
        "errored_but_stored": sum(1 for s in errors if stored.get(s.client_id, 0) > 0),
        "receiver_missed": len({s.message_id for s in ok} - set(received_ids)),
        "receiver_duplicates": len(received_ids) - len(set(received_ids)),
        "receiver_out_of_order": sum(1 for x, y in itertools.pairwise(seqs) if y <= x),
        "first_ack_after_fault_end_s": None if next_ack is None else round(next_ack - fault_end, 2),
        "receiver_had_the_faults_messages_after_s": (
            None if caught_up is None else round(max(0.0, caught_up - fault_end), 2)
        ),
        "delivery_after_ack_s": {
            "p50": round(delays[len(delays) // 2], 3) if delays else None,
            "max": round(delays[-1], 3) if delays else None,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fault", choices=FAULTS, required=True)
    parser.add_argument("--before", type=float, default=4.0, help="seconds of sends before the fault")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds the broker/database is away")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of sends after the fault")
    parser.add_argument("--pace", type=float, default=0.1, help="seconds between two sends")
    parser.add_argument("--catch-up", type=float, default=30.0, help="bound on the receiver's catching up")
    parser.add_argument("--json", help="write the report here too")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    text = json.dumps(report, indent=2)
    out(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
