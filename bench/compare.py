"""Parley against the reference servers: ``python -m bench.compare [--quick] [--runs N]``.

Three servers speak the same small app over Socket.IO:

node     Node's socket.io 4.8 (``bench/reference/node/server.js``)
plain    plain python-socketio AsyncServer under uvicorn (``bench/reference/plain_sio.py``)
parley   ``parley serve`` (this checkout, or ``--parley-rev REV`` from git)

and a fourth, only when ``--only`` names it, marks the stack's floor for connect and echo:

floor    a bare ASGI app under uvicorn that speaks just enough Engine.IO/Socket.IO over
         WebSocket for them, no Socket.IO library (``bench/reference/floor_asgi.py``)

One load generator drives them all: a Node process on the official
``socket.io-client`` (``bench/reference/node/gen.js``), commanded phase by
phase over stdin/stdout by this orchestrator, which reads the server's CPU
(utime+stime) and RSS from /proc around each phase. The generator is pinned to
core 0 and the server under test to core 1 (``taskset``).

Scenarios (``--scenarios``; every count is a flag, ``--quick`` shrinks them):

connect   C clients (websocket) connect and wait for ``session``: server CPU per connect,
          wall time until all C are connected, RSS per idle socket at C
rss       then up to R sockets in all: RSS per idle socket at R
fanout    1 room x C clients plus a publisher; M messages at a fixed rate: server CPU per
          delivery, delivery latency on the generator's clock
echo      E clients in closed loop, K acked echoes each: server CPU per round trip
sends     Parley only: durable ``message:send`` acked after commit, S senders each in its own
          topic, on SQLite (``sends``) and PostgreSQL (``sends-pg``): sends/s, CPU per send;
          ``sends-mentions``: as ``sends`` with every body mentioning two (offline) members;
          ``sends-links``: as ``sends`` with a distinct link in every body (previews on: each
          link is queued and looked at by the previews worker; the address guard refuses it)
reactions a reaction storm: N members in one topic, one message, ``reaction:add``/``remove``
          at a fixed rate for a fixed time: CPU per delivered ``reaction:updated``, deliveries/s,
          ack latency of ``reaction:add``
publish   Parley only: as ``sends``, but each message is published by a backend through the
          server API (``POST /api/server/messages`` with a server key, PROTOCOL.md 17) from this
          process, S callers in closed loop, each into the topic of one connected member: CPU
          per published message, to hold against CPU per ``sends`` send in the same run;
          ``sends-heard``, ``publish-heard``: the same two with a second member of each topic
          connected, so that a send and a publish reach the same two sockets (the sender's, or
          the owner's, and the listener's); the listeners count what they received
backlog   Parley only: a member offline while B messages are sent, then connects: time to
          the last backlog message (all B, in increasing seq)

``--connect-curve 1000,10000,19000`` runs, instead of the scenarios, the connect curve: for each
size a fresh server per kind, that many clients connected over several generator processes and
loopback source addresses (127.0.0.2, 127.0.0.3, ...), then a fan-out at a fixed delivery rate
with all of them connected. A size one server process cannot hold (its open-files limit) is
refused up front.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import html
import json
import math
import os
import resource
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import (
    BENCH_ENV,
    FAST_BCRYPT,
    ROOT,
    ProcSample,
    ServerProcess,
    calibrate,
    host_facts,
    machine_busy,
    sample,
    self_cpu,
    snapshot,
    terminate,
    wait_healthy,
)
from bench.stats import summary

NODE_DIR = ROOT / "bench" / "reference" / "node"
PLAIN = ROOT / "bench" / "reference" / "plain_sio.py"
FLOOR = ROOT / "bench" / "reference" / "floor_asgi.py"
RESULTS = ROOT / "bench" / "results"
SERVERS = ("node", "plain", "parley")
KNOWN_SERVERS = frozenset({*SERVERS, "floor"})  # ``floor`` runs only when named
FLOOR_SCENARIOS = frozenset({"connect", "echo"})
"""What ``floor`` serves: it has no rooms, no heartbeat and no store."""
SCENARIOS = (
    "connect",
    "rss",
    "fanout",
    "echo",
    "reactions",
    "sends",
    "sends-mentions",
    "sends-links",
    "sends-pg",
    "publish",
    "sends-heard",
    "publish-heard",
    "backlog",
)
PARLEY_ONLY = {
    "sends",
    "sends-mentions",
    "sends-links",
    "sends-pg",
    "publish",
    "sends-heard",
    "publish-heard",
    "backlog",
}
OWN_SERVER = {"reactions"}  # every server, each run on a fresh server process of its own
PASSWORD = "bench-password-1"
GENERATOR_CORE = "0"
SERVER_CORE = "1"


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def raise_nofile() -> None:
    """preexec_fn: the soft open-files limit up to the hard one (10,000 sockets need ~10,000 fds)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def pinned(core: str) -> list[str]:
    return ["taskset", "-c", core] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


# --------------------------------------------------------------------------- processes


class Generator:
    """The Node load generator: one JSON command per line in, one JSON answer per line out."""

    def __init__(self, core: str | None = GENERATOR_CORE) -> None:
        """``core``: the CPU to pin it to (``taskset``), None for unpinned."""
        self.proc: asyncio.subprocess.Process | None = None
        self.next_id = 0
        self.core = core

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *(pinned(self.core) if self.core is not None else []),
            "node",
            "--max-old-space-size=4096",
            str(NODE_DIR / "gen.js"),
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the generator's own errors go to our stderr
            limit=64 * 1024 * 1024,  # an answer carries no raw samples, but be generous
            preexec_fn=raise_nofile,
        )
        await self.call("ping", timeout=30)

    async def call(self, cmd: str, timeout: float, **args: Any) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.next_id += 1
        request = {"id": self.next_id, "cmd": cmd, **args}
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"generator exited during {cmd} (code {self.proc.returncode})")
        answer: dict[str, Any] = json.loads(line)
        if answer.get("id") != request["id"]:
            raise RuntimeError(f"generator answered {answer.get('id')} to {request['id']}")
        if not answer.get("ok"):
            raise RuntimeError(f"generator {cmd}: {answer.get('error')}")
        return answer

    async def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()  # the generator closes its sockets and exits
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        self.proc = None


class ReferenceServer:
    """``node server.js 0``, ``python plain_sio.py 0`` or ``python floor_asgi.py 0``: the port comes on
    stdout's first line."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float, port: int = 0) -> None:
        """``port``: listen there (a restart on the same address); 0 picks a free one."""
        if self.kind == "node":
            command = ["node", str(NODE_DIR / "server.js"), str(port)]
        else:
            command = [sys.executable, str(FLOOR if self.kind == "floor" else PLAIN), str(port)]
        self.proc = subprocess.Popen(
            [*pinned(SERVER_CORE), *command],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            preexec_fn=raise_nofile,
        )
        assert self.proc.stdout is not None
        loop = asyncio.get_running_loop()
        try:
            line = await asyncio.wait_for(loop.run_in_executor(None, self.proc.stdout.readline), timeout)
            self.port = int(line)
            await wait_healthy(self.url, timeout)
        except BaseException:
            await self.stop()
            raise

    async def stop(self, grace: float = 10.0) -> None:
        proc = self.proc
        if proc is None:
            return
        await terminate(proc, grace)
        if proc.stdout is not None:
            proc.stdout.close()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL it and reap it (a crash)."""
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
        self.proc = None


@dataclass
class Running:
    """The server under test: where it listens and which PID to read in /proc."""

    kind: str
    url: str
    pid: int
    notes: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def parley_server(
    args: argparse.Namespace, env: dict[str, str], data_dir: Path | None = None
) -> AsyncIterator[Running]:
    """``parley serve`` on the server's core with ``env`` (on ``data_dir`` when given), stopped
    at the end; error lines of its log become the run's notes."""
    server = ServerProcess(env, "parley", args.parley_source, command_prefix=pinned(SERVER_CORE))
    server.preexec_fn = raise_nofile
    await server.start(timeout=args.start_timeout, data_dir=data_dir)
    running = Running("parley", server.url, server.pid)
    try:
        yield running
    finally:
        errors = server.errors()
        if errors:
            running.notes.append(f"parley log: {len(errors)} error lines; first: {server.first_error(8)}")
        await server.stop()


def apply_quick(args: argparse.Namespace, argv: list[str] | None, quick: dict[str, Any]) -> None:
    """``--quick``: the smoke run's counts, except those given on the command line."""
    if not args.quick:
        return
    given = {a.split("=")[0][2:].replace("-", "_") for a in (argv if argv is not None else sys.argv[1:])}
    for key, value in quick.items():
        if key not in given:
            setattr(args, key, value)


@contextlib.asynccontextmanager
async def server_for(
    kind: str, args: argparse.Namespace, extra_env: dict[str, str] | None = None
) -> AsyncIterator[Running]:
    if kind == "parley":
        env = dict(BENCH_ENV)
        env.update(FAST_BCRYPT)
        env.update(extra_env or {})
        async with parley_server(args, env) as running:
            yield running
        return
    ref = ReferenceServer(kind)
    await ref.start(timeout=args.start_timeout)
    try:
        yield Running(kind, ref.url, ref.pid)
    finally:
        await ref.stop()


@contextlib.asynccontextmanager
async def generator() -> AsyncIterator[Generator]:
    gen = Generator()
    await gen.start()
    try:
        yield gen
    finally:
        await gen.stop()


# --------------------------------------------------------------------------- measuring


def safe_sample(pid: int) -> ProcSample | None:
    try:
        return sample(pid)
    except OSError:
        return None


class Window:
    """CPU of the server, the generators, this process and the rest of the machine over one phase."""

    def __init__(self, server_pid: int, *generator_pids: int) -> None:
        self.server_pid, self.generator_pids = server_pid, generator_pids
        self.s0, self.g0 = safe_sample(server_pid), [safe_sample(pid) for pid in generator_pids]
        self.me0, self.m0, self.w0 = self_cpu(), machine_busy(), time.perf_counter()
        self.result: dict[str, Any] = {}

    def stop(self) -> dict[str, Any]:
        s1, g1 = safe_sample(self.server_pid), [safe_sample(pid) for pid in self.generator_pids]
        me1, m1, w1 = self_cpu(), machine_busy(), time.perf_counter()
        wall = w1 - self.w0
        server = s1.cpu_s - self.s0.cpu_s if s1 and self.s0 else None
        gen = sum(b.cpu_s - a.cpu_s for a, b in zip(self.g0, g1, strict=True) if a and b)
        me = me1 - self.me0
        other = max(0.0, (m1 - self.m0) - (server or 0.0) - gen - me)
        self.result = {
            "wall_s": round(wall, 3),
            "server_cpu_s": None if server is None else round(server, 3),
            "server_cores": None if server is None else round(server / wall, 2),
            "server_kernel_share": None
            if not server or not s1 or not self.s0
            else round((s1.system_cpu_s - self.s0.system_cpu_s) / server, 2),
            "generator_cores": round(gen / wall, 2),
            "orchestrator_cores": round(me / wall, 2),
            # Everything else on the machine meanwhile (other engineers' tests): the noise.
            "other_processes_cores": round(other / wall, 2),
            "server_rss_kb": s1.rss_kb if s1 else None,
        }
        return self.result


def per_ms(cpu_s: float | None, count: int) -> float | None:
    return None if cpu_s is None or count <= 0 else round(cpu_s * 1000 / count, 4)


async def quiet(pids: list[int], settle: float, limit: float = 30.0, threshold: float = 0.1) -> float:
    """Sleep ``settle`` s, then wait (at most ``limit`` s) until these processes are idle.

    Closing thousands of sockets, for one, keeps a server busy for seconds after the
    generator has moved on; that work must not land in the next measured phase.
    """
    started = time.perf_counter()
    await asyncio.sleep(settle)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = [safe_sample(pid) for pid in pids]
        await asyncio.sleep(0.5)
        after = [safe_sample(pid) for pid in pids]
        busy = sum(b.cpu_s - a.cpu_s for a, b in zip(before, after, strict=True) if a and b) / 0.5
        if busy < threshold:
            break
    return round(time.perf_counter() - started, 1)


async def settled_rss(pids: list[int], settle: float) -> int:
    """The server's RSS (``pids[0]``) once the processes are quiet (buffers freed, the allocator settled)."""
    await quiet(pids, settle)
    sampled = safe_sample(pids[0])
    return sampled.rss_kb if sampled else 0


# --------------------------------------------------------------------------- Parley accounts (not measured)


def http_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=60, sock_connect=15),
    )


async def register(url: str, prefix: str, count: int, concurrency: int = 16) -> list[str]:
    """Register ``count`` users over REST; their tokens in order."""
    gate = asyncio.Semaphore(concurrency)
    async with http_session() as http:

        async def one(i: int) -> str:
            name = f"{prefix}{i}"
            async with (
                gate,
                http.post(f"{url}/api/users", json={"username": name, "password": PASSWORD}) as r,
            ):
                body = await r.json()
                if r.status != 201:
                    raise RuntimeError(f"register {name}: HTTP {r.status} {body}")
                return str(body["token"])

        return list(await asyncio.gather(*(one(i) for i in range(count))))


async def rest(http: aiohttp.ClientSession, method: str, url: str, token: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.request(method, url, json=body, headers=headers) as r:
        data = await r.json(content_type=None)
        if r.status >= 300:
            raise RuntimeError(f"{method} {url}: HTTP {r.status} {data}")
        return data


# --------------------------------------------------------------------------- scenarios


def mode_of(kind: str) -> str:
    return "parley" if kind == "parley" else "ref"


async def core_scenarios(kind: str, args: argparse.Namespace, wanted: set[str]) -> dict[str, Any]:
    """connect, rss, fanout, echo on one server process (in that order)."""
    result: dict[str, Any] = {}
    n = args.clients
    total = max(n, args.rss_sockets if "rss" in wanted else 0)
    mode = mode_of(kind)
    async with server_for(kind, args) as srv, generator() as gen:
        tokens: list[str] | None = None
        if kind == "parley":
            started = time.perf_counter()
            tokens = await asyncio.wait_for(register(srv.url, f"c{secrets.token_hex(3)}u", total + 1), 900)
            result["registration_s"] = round(time.perf_counter() - started, 1)
            out(f"    registered {total + 1} users in {result['registration_s']} s")
        publisher_token = tokens[-1] if tokens else None
        client_tokens = tokens[:-1] if tokens else None
        limit = args.phase_timeout

        async def connect(group: str, count: int, offset: int, concurrency: int) -> dict[str, Any]:
            answer = await gen.call(
                "connect",
                limit + 30,
                group=group,
                url=srv.url,
                mode=mode,
                n=count,
                tokens=client_tokens[offset : offset + count] if client_tokens else None,
                concurrency=concurrency,
                transports=["websocket"],
                timeout_s=limit,
            )
            return answer

        # Warm up (imports, JIT, first-connection paths), then the idle baseline.
        await gen.call(
            "connect", 60, group="warm", url=srv.url, mode=mode, n=5, tokens=client_tokens, concurrency=5,
            transports=["websocket"], timeout_s=30,
        )  # fmt: skip
        await gen.call("close", 30, group="warm")
        rss0 = await settled_rss([srv.pid, gen.pid], args.settle)

        window = Window(srv.pid, gen.pid)
        answer = await connect("c", n, 0, args.connect_concurrency)
        cpu = window.stop()
        rss_n = await settled_rss([srv.pid, gen.pid], args.settle)
        connected = answer["connected"]
        out(f"    connect: {connected}/{n} in {answer['wall_ms'] / 1000:.1f} s")
        if "connect" in wanted:
            result["connect"] = {
                "clients": n,
                "connected": connected,
                "failed": answer["failed"],
                "first_errors": answer["first_errors"],
                "wall_s": round(answer["wall_ms"] / 1000, 3),
                "session_ms": answer["session_ms"],
                "cpu_ms_per_connect": per_ms(cpu["server_cpu_s"], connected),
                "rss_kb_idle": rss0,
                "rss_kb_connected": rss_n,
                "rss_kb_per_socket": round((rss_n - rss0) / connected, 1) if connected else None,
                "cpu": cpu,
            }
        if connected < n:
            raise RuntimeError(f"only {connected} of {n} clients connected: {answer['first_errors']}")

        if "fanout" in wanted:
            room = f"room-{secrets.token_hex(3)}"
            if kind == "parley":
                # A public topic: created by the publisher (who becomes a member), joined by everyone.
                await gen.call(
                    "connect", 60, group="pub", url=srv.url, mode=mode, n=1, tokens=[publisher_token],
                    concurrency=1, transports=["websocket"], timeout_s=30,
                )  # fmt: skip
                await gen.call("create_topics", 60, group="pub", prefix=room, count=1)
                room = f"{room}-0"
            else:
                await gen.call(
                    "connect", 60, group="pub", url=srv.url, mode=mode, n=1, tokens=None, concurrency=1,
                    transports=["websocket"], timeout_s=30,
                )  # fmt: skip
                await gen.call("join", 60, group="pub", room=room, mode=mode)
            joined = await gen.call("join", limit, group="c", room=room, mode=mode, concurrency=50)
            if joined["failed"]:
                raise RuntimeError(f"join failed: {joined['first_error']}")
            await quiet([srv.pid, gen.pid], args.settle)
            window = Window(srv.pid, gen.pid)
            answer = await gen.call(
                "fanout",
                limit + 60,
                group="c",
                publisher_group="pub",
                room=room,
                mode=mode,
                rate=args.fanout_rate,
                messages=args.fanout_messages,
                body_size=64,
                timeout_s=limit,
            )
            cpu = window.stop()
            server_deliveries = answer["deliveries"] + answer["publisher_self_deliveries"]
            p99 = answer["latency_ms"].get("p99")
            out(f"    fanout: {answer['deliveries']}/{answer['expected']} deliveries, p99 {p99} ms")
            result["fanout"] = {
                "recipients": answer["recipients"],
                "messages": answer["messages"],
                "rate_messages_per_s": args.fanout_rate,
                "target_deliveries_per_s": args.fanout_rate * answer["recipients"],
                "deliveries": answer["deliveries"],
                "expected": answer["expected"],
                "missing": answer["expected"] - answer["deliveries"],
                "publisher_self_deliveries": answer["publisher_self_deliveries"],
                "out_of_order": answer["out_of_order"],
                "send_errors": answer["send_errors"],
                "late_sends": answer["late_sends"],
                "timed_out": answer["timed_out"],
                "latency_ms": answer["latency_ms"],
                "ack_ms": answer["ack_ms"],
                # Every socket in the room, the publisher's own too (Parley and io.to(room) both send it).
                "cpu_ms_per_delivery": per_ms(cpu["server_cpu_s"], server_deliveries),
                "cpu": cpu,
            }
            await gen.call("close", 60, group="pub")

        if "echo" in wanted:
            count = min(args.echo_clients, n)
            if kind == "parley":
                ready = await gen.call("echo_prepare", limit + 30, group="c", count=count, timeout_s=limit)
                if ready["failed"]:
                    raise RuntimeError(f"{ready['failed']} /echo namespaces did not connect")
            await quiet([srv.pid, gen.pid], args.settle)
            window = Window(srv.pid, gen.pid)
            answer = await gen.call(
                "echo",
                limit + 60,
                group="c",
                count=count,
                per_client=args.echo_per_client,
                mode=mode,
                payload_size=32,
                timeout_s=limit,
            )
            cpu = window.stop()
            result["echo"] = {
                "clients": count,
                "round_trips": answer["round_trips"],
                "errors": answer["errors"],
                "mismatches": answer["mismatches"],
                "per_s": answer["per_s"],
                "rtt_ms": answer["rtt_ms"],
                "cpu_ms_per_round_trip": per_ms(cpu["server_cpu_s"], answer["round_trips"]),
                "cpu": cpu,
            }
        if "rss" in wanted and args.rss_sockets > n:
            # Last: python-socketio's disconnect scans every room of the namespace, so closing
            # thousands of sockets keeps a Python server busy for minutes; nothing is measured after.
            before = await settled_rss([srv.pid, gen.pid], args.settle)
            more = args.rss_sockets - n
            started = time.perf_counter()
            answer = await connect("c", more, n, args.connect_concurrency)
            wall = time.perf_counter() - started
            rss_big = await settled_rss([srv.pid, gen.pid], args.settle * 2)
            added = answer["connected"]
            sockets = n + added
            out(f"    rss: {sockets} sockets, {rss_big // 1024} MB")
            result["rss"] = {
                "sockets": sockets,
                "asked": args.rss_sockets,
                "failed": answer["failed"],
                "first_errors": answer["first_errors"],
                "connect_wall_s": round(wall, 1),
                "rss_kb_idle": rss0,
                "rss_kb_before_adding": before,
                "rss_kb_at_sockets": rss_big,
                # Marginal: what each added idle socket costs (the phases before left their own garbage).
                "rss_kb_per_socket": round((rss_big - before) / added, 1) if added else None,
                "rss_kb_per_socket_total": round((rss_big - rss0) / sockets, 1),
            }
        await gen.call("close", 120, group="c")
        if srv.notes:
            result["notes"] = srv.notes
    return result


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh database on 127.0.0.1:5432 (user postgres, trust auth), dropped at the end."""
    name = f"bench_{secrets.token_hex(4)}"
    base = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c"]
    subprocess.run([*base, f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=60)
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run(
            [*base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
            check=False,
            capture_output=True,
            timeout=60,
        )


def postgres_backends_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the database of ``url`` (same machine, /proc)."""
    name = url.rsplit("/", 1)[1]
    query = f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}'"
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", query],
        capture_output=True,
        text=True,
        timeout=30,
    )
    cpu = {}
    for line in done.stdout.split():
        with contextlib.suppress(OSError, ValueError):
            cpu[int(line)] = sample(int(line)).cpu_s
    return cpu


async def subscribe_all(url: str, tokens: list[str], topics: list[str], concurrency: int = 16) -> None:
    """Each token's user subscribes to every topic over REST (not measured)."""
    gate = asyncio.Semaphore(concurrency)
    async with http_session() as http:

        async def one(token: str, topic: str) -> None:
            async with gate:
                await rest(http, "POST", f"{url}/api/topics/{topic}/subscribe", token)

        await asyncio.gather(*(one(token, topic) for token in tokens for topic in topics))


async def own_topics(gen: Generator, group: str, url: str, tokens: list[str]) -> str:
    """``tokens``' sockets connected in ``group``, each the owner of a topic of its own
    (``<prefix>-<i>``, the i-th token's): the prefix."""
    await gen.call(
        "connect", 120, group=group, url=url, mode="parley", n=len(tokens), tokens=tokens, concurrency=50,
        transports=["websocket"], timeout_s=90,
    )  # fmt: skip
    prefix = f"t{secrets.token_hex(3)}"
    created = await gen.call("create_topics", 120, group=group, prefix=prefix, count=len(tokens))
    if created["failed"]:
        raise RuntimeError(f"{created['failed']} topics not created")
    return prefix


async def listening(gen: Generator, url: str, tokens: list[str], prefix: str) -> None:
    """``tokens``' sockets connected in group ``h``, the i-th a member of topic ``<prefix>-<i>``,
    each counting the ``message`` events it receives from now on (``heard``)."""
    await gen.call(
        "connect", 120, group="h", url=url, mode="parley", n=len(tokens), tokens=tokens, concurrency=50,
        transports=["websocket"], timeout_s=90,
    )  # fmt: skip
    joined = await gen.call("join", 120, group="h", mode="parley", prefix=prefix, concurrency=20)
    if joined["failed"]:
        raise RuntimeError(f"{joined['failed']} listeners not subscribed: {joined['first_error']}")
    await gen.call("heard", 30, group="h", action="start")


async def heard_by_listeners(gen: Generator, expected: int) -> int:
    """How many ``message`` events the listeners received, once ``expected`` came or 10 s passed."""
    answer = await gen.call("heard", 30, group="h", action="count", expected=expected, timeout_s=10)
    return int(answer["heard"])


async def scenario_sends(
    args: argparse.Namespace, database: str, mentions: bool = False, link: bool = False, heard: bool = False
) -> dict[str, Any]:
    """Durable sends, each sender in its own topic; ``mentions``: two more members, named in every body;
    ``heard``: one more member of each topic, connected (``listening``).

    The two mentioned users are members of every topic and stay offline, so a send still reaches
    one socket (the sender's) and the body (``hey @a and @b `` in front) is what differs from ``sends``.
    """
    async with contextlib.AsyncExitStack() as stack:
        env: dict[str, str] = {}
        pg_url = ""
        if database == "postgresql":
            pg_url = await stack.enter_async_context(postgres_database())
            env["PARLEY_DATABASE_URL"] = pg_url
        srv = await stack.enter_async_context(server_for("parley", args, env))
        gen = await stack.enter_async_context(generator())
        count = args.senders
        users = f"s{secrets.token_hex(3)}u"
        extra = 2 if mentions else 0
        tokens = await asyncio.wait_for(
            register(srv.url, users, count + extra + (count if heard else 0)), 600
        )
        tokens, mentioned_tokens, listener_tokens = (
            tokens[:count],
            tokens[count : count + extra],
            tokens[count + extra :],
        )
        mentioned = [f"{users}{count + i}" for i in range(len(mentioned_tokens))]
        prefix = await own_topics(gen, "s", srv.url, tokens)
        if mentioned_tokens:
            topics = [f"{prefix}-{i}" for i in range(count)]
            await asyncio.wait_for(subscribe_all(srv.url, mentioned_tokens, topics), 600)
        if listener_tokens:
            await listening(gen, srv.url, listener_tokens, prefix)
        await quiet([srv.pid, gen.pid], args.settle)
        pg0 = postgres_backends_cpu(pg_url) if pg_url else {}
        window = Window(srv.pid, gen.pid)
        answer = await gen.call(
            "sends",
            args.phase_timeout + 60,
            group="s",
            count=count,
            per_client=args.sends_per_client,
            prefix=prefix,
            body_size=64,
            mentions=mentioned,
            # loopback, so the previews worker's guard refuses it at once: what is measured is the
            # send path's link parsing and queueing and the worker's bookkeeping, not a fetch
            link="http://127.0.0.1:9/notes" if link else None,
            timeout_s=args.phase_timeout,
        )
        cpu = window.stop()
        pg1 = postgres_backends_cpu(pg_url) if pg_url else {}
        heard_count = await heard_by_listeners(gen, answer["acked"]) if heard else None
        await gen.call("close", 60, group="s")
        if heard:
            await gen.call("close", 60, group="h")
        result = {
            "database": database,
            "senders": count,
            "mentions_per_body": mentioned,
            # sends whose stored message lists both names (0 on a server without mentions)
            "mentions_recognised": answer["mentions_recognised"] if mentioned else None,
            "links_recognised": answer.get("links_recognised") if link else None,
            "acked": answer["acked"],
            "heard": heard_count,  # what the listeners received
            "errors": answer["errors"],
            "first_error": answer["first_error"],
            "sends_per_s": answer["per_s"],
            "ack_ms": answer["ack_ms"],
            "cpu_ms_per_send": per_ms(cpu["server_cpu_s"], answer["acked"]),
            "cpu": cpu,
        }
        if pg_url:
            # The database's own work (part of other_processes_cores): its backends for this database.
            pg_cpu = sum(cpu_s - pg0.get(pid, 0.0) for pid, cpu_s in pg1.items())
            result["postgres_backends"] = len(pg1)
            result["postgres_cpu_ms_per_send"] = per_ms(pg_cpu, answer["acked"])
        if srv.notes:
            result["notes"] = srv.notes
        return result


def server_key(args: argparse.Namespace, data_dir: Path) -> str:
    """A server key made with ``parley keys create`` on the served data directory (the code under
    test's command line, as an operator would)."""
    env = dict(os.environ)
    env.update(BENCH_ENV)
    env["PARLEY_DATA_DIR"] = str(data_dir)
    if args.parley_source is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(args.parley_source), env.get("PYTHONPATH")) if p)
    made = subprocess.run(
        [sys.executable, "-m", "server.cli", "keys", "create", "--label", "bench", "--json"],
        cwd=data_dir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"parley keys create: exit {made.returncode}: {made.stderr.strip()[-300:]}")
    return str(json.loads(made.stdout)["key"])


async def scenario_publish(args: argparse.Namespace, heard: bool = False) -> dict[str, Any]:
    """``sends``' shape with the server API as the sender: S topics, each with its connected owner,
    and S callers here each publishing ``--sends-per-client`` messages into its own topic, one
    after the other (the next once the 201 came: stored and delivered); ``heard``: one more member
    of each topic, connected (``listening``)."""
    data_dir = Path(tempfile.mkdtemp(prefix="parley-bench-publish-"))
    env = dict(BENCH_ENV)
    env.update(FAST_BCRYPT)
    # The key's rate limit (200/s by default) is policy, not cost: callers faster than it got 429s,
    # whose CPU was divided among the messages that were stored.
    env["PARLEY_SERVER_KEY_RATE"] = "1000000"
    async with contextlib.AsyncExitStack() as stack:
        srv = await stack.enter_async_context(parley_server(args, env, data_dir))
        gen = await stack.enter_async_context(generator())
        count = args.senders
        tokens = await asyncio.wait_for(
            register(srv.url, f"p{secrets.token_hex(3)}u", count * (2 if heard else 1)), 600
        )
        tokens, listener_tokens = tokens[:count], tokens[count:]
        prefix = await own_topics(gen, "p", srv.url, tokens)
        if listener_tokens:
            await listening(gen, srv.url, listener_tokens, prefix)
        key = await asyncio.to_thread(server_key, args, data_dir)
        headers = {"Authorization": f"Bearer {key}"}
        latencies: list[float] = []
        errors: list[str] = []
        async with http_session() as http:

            async def caller(i: int, n: int) -> None:
                for k in range(n):
                    body = {"topic": f"{prefix}-{i}", "body": f"{k:06d} " + "x" * 57}
                    started = time.perf_counter()
                    async with http.post(f"{srv.url}/api/server/messages", json=body, headers=headers) as r:
                        await r.read()
                        if r.status != 201:
                            errors.append(f"HTTP {r.status}")
                            continue
                    latencies.append(time.perf_counter() - started)

            await asyncio.gather(*(caller(i, 2) for i in range(count)))  # warm: the bot joins each topic
            warm = len(latencies)  # the listeners count these too
            latencies.clear()
            await quiet([srv.pid, gen.pid], args.settle)
            window = Window(srv.pid, gen.pid)
            started = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(*(caller(i, args.sends_per_client) for i in range(count))), args.phase_timeout
            )
            wall = time.perf_counter() - started
            cpu = window.stop()
        heard_count = await heard_by_listeners(gen, warm + len(latencies)) - warm if heard else None
        await gen.call("close", 60, group="p")
        if heard:
            await gen.call("close", 60, group="h")
        done = len(latencies)
        return {
            "callers": count,
            "published": done,
            "heard": heard_count,
            "errors": len(errors),
            "first_error": errors[0] if errors else None,
            "per_s": round(done / wall, 1) if wall > 0 else None,
            "latency_ms": summary([x * 1000 for x in latencies]),
            "cpu_ms_per_message": per_ms(cpu["server_cpu_s"], done),
            "cpu": cpu,
            "notes": srv.notes,
        }


async def scenario_backlog(args: argparse.Namespace) -> dict[str, Any]:
    size = args.backlog
    env = {"PARLEY_BACKLOG_PER_TOPIC": str(max(1000, size))}
    async with server_for("parley", args, env) as srv, generator() as gen, http_session() as http:
        tokens = await register(srv.url, f"b{secrets.token_hex(3)}u", 1 + args.backlog_fillers)
        member, fillers = tokens[0], tokens[1:]
        topic = f"backlog-{secrets.token_hex(3)}"
        await rest(http, "POST", f"{srv.url}/api/topics", fillers[0], {"name": topic})
        for token in [member, *fillers[1:]]:
            await rest(http, "POST", f"{srv.url}/api/topics/{topic}/subscribe", token)
        # The fill (not measured): REST sends, many in flight; nobody is online.
        started = time.perf_counter()
        gate = asyncio.Semaphore(args.backlog_fill_concurrency)

        async def send(i: int) -> None:
            async with gate:
                body = {"topic": topic, "body": f"backlog {i}"}
                await rest(http, "POST", f"{srv.url}/api/messages", fillers[i % len(fillers)], body)

        await asyncio.wait_for(asyncio.gather(*(send(i) for i in range(size))), args.phase_timeout * 3)
        fill_s = time.perf_counter() - started
        await quiet([srv.pid, gen.pid], args.settle)
        window = Window(srv.pid, gen.pid)
        answer = await gen.call(
            "backlog",
            args.phase_timeout + 30,
            url=srv.url,
            token=member,
            topic=topic,
            expected=size,
            timeout_s=args.phase_timeout,
        )
        cpu = window.stop()
        complete = (
            answer["received"] == size and answer["out_of_order_or_gaps"] == 0 and not answer["duplicates"]
        )
        result = {
            "messages": size,
            "fill_s": round(fill_s, 1),
            "fill_per_s": round(size / fill_s, 1),
            **{k: v for k, v in answer.items() if k not in ("id", "ok")},
            "complete_in_order": complete,
            "cpu_ms_per_backlog_message": per_ms(cpu["server_cpu_s"], answer["received"]),
            "cpu": cpu,
        }
        if srv.notes:
            result["notes"] = srv.notes
        return result


async def scenario_reactions(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """The reaction storm on a fresh server: members in one room, one message, reactions at a fixed rate."""
    n = args.reaction_members
    mode = mode_of(kind)
    limit = args.phase_timeout
    async with server_for(kind, args) as srv, generator() as gen:
        tokens = None
        if kind == "parley":
            tokens = await asyncio.wait_for(register(srv.url, f"r{secrets.token_hex(3)}u", n), 600)
        connected = await gen.call(
            "connect", limit + 30, group="r", url=srv.url, mode=mode, n=n, tokens=tokens, concurrency=50,
            transports=["websocket"], timeout_s=limit,
        )  # fmt: skip
        if connected["connected"] < n:
            raise RuntimeError(f"only {connected['connected']} of {n} connected: {connected['first_errors']}")
        room = f"react-{secrets.token_hex(3)}"
        if kind == "parley":
            # A public topic: member 0 creates it (and is a member), the others subscribe.
            await gen.call("create_topics", 60, group="r", prefix=room, count=1)
            room = f"{room}-0"
            joined = await gen.call(
                "join", limit, group="r", room=room, mode=mode, concurrency=50, **{"from": 1}
            )
        else:
            joined = await gen.call("join", limit, group="r", room=room, mode=mode, concurrency=50)
        if joined["failed"]:
            raise RuntimeError(f"join failed: {joined['first_error']}")
        posted = await gen.call("post", 60, group="r", room=room, mode=mode)
        await quiet([srv.pid, gen.pid], args.settle)
        window = Window(srv.pid, gen.pid)
        answer = await gen.call(
            "reactions",
            limit + 60,
            group="r",
            room=room,
            id=posted["message_id"],
            reactors=min(args.reactors, n),
            rate=args.reaction_rate,
            duration_s=args.reaction_duration,
            emojis=args.reaction_emojis,
            idle_s=3,
            timeout_s=limit,
        )
        cpu = window.stop()
        out(
            f"    reactions: {answer['deliveries']}/{answer['expected']} deliveries, "
            f"{answer['deliveries_per_s']}/s, add p95 {answer['add_ack_ms'].get('p95')} ms"
        )
        await gen.call("close", 60, group="r")
        result = {
            "members": n,
            "rate_per_s": args.reaction_rate,
            "duration_s": args.reaction_duration,
            **{k: v for k, v in answer.items() if k not in ("id", "ok")},
            "missing": answer["expected"] - answer["deliveries"],
            # Everything the server did in the phase (the reactions themselves too) per update delivered.
            "cpu_ms_per_delivery": per_ms(cpu["server_cpu_s"], answer["deliveries"]),
            "cpu_ms_per_reaction": per_ms(cpu["server_cpu_s"], answer["acked"]),
            "cpu": cpu,
        }
        if srv.notes:
            result["notes"] = srv.notes
        return result


# --------------------------------------------------------------------------- many sockets: the fleet

FD_RESERVE = 100
"""Descriptors a server or a generator needs besides its sockets (files, listeners, pipes, epoll)."""
EPHEMERAL_PORTS = 28_000
"""About what one source address has towards one server port (32768-60999 here)."""


def nofile_limit() -> int:
    """The open-files limit a process we start gets (``raise_nofile`` lifts the soft limit to this)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 65536 if hard == resource.RLIM_INFINITY else hard


def max_sockets() -> int:
    """The most sockets one server process (or one generator) can hold here: one descriptor each."""
    return nofile_limit() - FD_RESERVE


def refuse_sizes(sizes: list[int], per_generator: int) -> str | None:
    """Why these socket counts cannot run on this machine, or None.

    Refused up front rather than discovered as a hang: past the open-files limit the server's
    ``accept`` fails (EMFILE) and the clients time out one by one.
    """
    limit = nofile_limit()
    if not sizes or any(size < 1 for size in sizes):
        return "socket counts must be positive"
    too_big = [size for size in sizes if size > max_sockets()]
    if too_big:
        return (
            f"{', '.join(map(str, too_big))} sockets: one server process holds one descriptor per socket and "
            f"the open-files limit (RLIMIT_NOFILE, hard) here is {limit}, so at most {max_sockets()} sockets "
            f"({FD_RESERVE} kept for its files); raising the hard limit needs CAP_SYS_RESOURCE"
        )
    if not 1 <= per_generator <= min(max_sockets(), EPHEMERAL_PORTS):
        return (
            f"--clients-per-generator {per_generator}: a generator process needs one descriptor per socket "
            f"(limit {limit}) and one ephemeral port of its source address ({EPHEMERAL_PORTS}): "
            f"at most {min(max_sockets(), EPHEMERAL_PORTS)}"
        )
    return None


def fleet_plan(total: int, per_generator: int) -> list[tuple[str, int]]:
    """(source address, sockets) for each generator process: as even as possible, each its own address.

    One loopback address per generator (127.0.0.2, 127.0.0.3, ...; all of 127/8 is the loopback here)
    keeps every generator under both its descriptor limit and its address's ephemeral ports.
    """
    count = max(1, math.ceil(total / per_generator))
    base, extra = divmod(total, count)
    return [(f"127.0.0.{2 + i}", base + (1 if i < extra else 0)) for i in range(count)]


class Fleet:
    """Several generator processes, each with its own source address and share of the sockets."""

    def __init__(self, plan: list[tuple[str, int]]) -> None:
        self.plan = plan
        self.gens = [Generator() for _ in plan]

    @property
    def pids(self) -> list[int]:
        return [gen.pid for gen in self.gens]

    @property
    def offsets(self) -> list[int]:
        """Index of each generator's first socket among all (its tokens start there)."""
        offsets, at = [], 0
        for _, count in self.plan:
            offsets.append(at)
            at += count
        return offsets

    async def start(self) -> None:
        await asyncio.gather(*(gen.start() for gen in self.gens))

    async def call_each(self, cmd: str, timeout: float, args: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``cmd`` on every generator at once, each with its own arguments; their answers in order."""
        calls = (gen.call(cmd, timeout, **a) for gen, a in zip(self.gens, args, strict=True))
        return list(await asyncio.gather(*calls))

    async def stop(self) -> None:
        await asyncio.gather(*(gen.stop() for gen in self.gens), return_exceptions=True)


@contextlib.asynccontextmanager
async def fleet(plan: list[tuple[str, int]]) -> AsyncIterator[Fleet]:
    gens = Fleet(plan)
    try:
        await gens.start()
        yield gens
    finally:
        await gens.stop()


MANY_SOCKETS_ENV = {"PARLEY_MAX_CONNECTIONS_PER_USER": "1000000"}
"""With BENCH_ENV's per-address bound: nothing but the machine limits the sockets."""


def curve_fanout_shape(
    size: int, room: int, deliveries_per_s: float, seconds: float
) -> tuple[int, float, int]:
    """(room size, messages/s, messages) of the curve's fan-out: ``room`` members (0: all ``size``
    sockets) at ``deliveries_per_s`` in all, for about ``seconds`` (at least one message)."""
    members = size if room <= 0 else min(room, size)
    rate = deliveries_per_s / members
    return members, rate, max(1, round(rate * seconds))


@contextlib.asynccontextmanager
async def curve_server(kind: str, args: argparse.Namespace, template: Path | None) -> AsyncIterator[Running]:
    """A fresh server for one point of the curve; Parley on a copy of ``template`` (users registered)."""
    if kind != "parley":
        async with server_for(kind, args) as running:
            yield running
        return
    assert template is not None
    copy = Path(tempfile.mkdtemp(prefix="parley-curve-"))
    shutil.copytree(template, copy, dirs_exist_ok=True)
    async with parley_server(args, {**FAST_BCRYPT, **MANY_SOCKETS_ENV}, data_dir=copy) as running:
        yield running  # stop() removes the copy


async def curve_template(args: argparse.Namespace, users: int) -> tuple[Path, list[str]]:
    """Register ``users`` users once on a server of their own, stopped cleanly: every point of the curve
    starts on a copy of its data directory (registering 19,000 users takes minutes; once is enough)."""
    env = {**FAST_BCRYPT, **MANY_SOCKETS_ENV}
    server = ServerProcess(env, "parley", args.parley_source)
    await server.start(timeout=args.start_timeout)
    try:
        started = time.perf_counter()
        tokens = await asyncio.wait_for(register(server.url, f"k{secrets.token_hex(3)}u", users), 3600)
        out(f"    registered {users} users in {time.perf_counter() - started:.0f} s")
    except BaseException:
        await server.stop()
        raise
    assert server.data_dir is not None
    template = server.data_dir
    await server.stop(keep_dir=True)
    (template / "server.log").unlink(missing_ok=True)
    return template, tokens


async def curve_point(
    kind: str, size: int, args: argparse.Namespace, template: Path | None, tokens: list[str] | None
) -> dict[str, Any]:
    """One size: connect them all (CPU, wall time, RSS per socket), then the fan-out with all connected.

    The fan-out room is a subset of generator 0's sockets (the publisher is there too, so latency is
    measured on one clock), of ``--curve-room`` members at ``--curve-deliveries`` deliveries/s in all.
    """
    plan = fleet_plan(size, args.clients_per_generator)
    mode = mode_of(kind)
    limit = args.phase_timeout
    members, rate, messages = curve_fanout_shape(
        size, args.curve_room, args.curve_deliveries, args.curve_fanout_seconds
    )
    if members > plan[0][1]:
        members = plan[0][1]  # the room lives in generator 0
        rate = args.curve_deliveries / members
        messages = max(1, round(rate * args.curve_fanout_seconds))
    client_tokens = tokens[:-1] if tokens else None
    # Servers stop first (the inner context), so a Python server does not spend minutes on closing sockets.
    async with fleet(plan) as gens, curve_server(kind, args, template) as srv:
        pids = [srv.pid, *gens.pids]
        await gens.gens[0].call(
            "connect", 60, group="warm", url=srv.url, mode=mode, n=5, tokens=client_tokens, concurrency=5,
            transports=["websocket"], timeout_s=30,
        )  # fmt: skip
        await gens.gens[0].call("close", 30, group="warm")
        rss0 = await settled_rss(pids, args.settle)
        per_gen = max(1, math.ceil(args.connect_concurrency / len(plan)))
        window = Window(srv.pid, *gens.pids)
        answers = await gens.call_each(
            "connect",
            limit + 30,
            [
                {
                    "group": "c",
                    "url": srv.url,
                    "mode": mode,
                    "n": count,
                    "tokens": client_tokens[offset : offset + count] if client_tokens else None,
                    "concurrency": per_gen,
                    "transports": ["websocket"],
                    "local_address": address,
                    "raw": True,
                    "timeout_s": limit,
                }
                for (address, count), offset in zip(plan, gens.offsets, strict=True)
            ],
        )
        cpu = window.stop()
        rss_n = await settled_rss(pids, args.settle * 2)
        connected = sum(a["connected"] for a in answers)
        errors = [e for a in answers for e in a["first_errors"]]
        out(f"    {kind} {size}: {connected} connected in {max(a['wall_ms'] for a in answers) / 1000:.1f} s")
        result: dict[str, Any] = {
            "sockets": size,
            "generators": [{"address": a, "sockets": n} for a, n in plan],
            "connected": connected,
            "failed": sum(a["failed"] for a in answers),
            "first_errors": list(dict.fromkeys(errors))[:3],
            "wall_s": round(max(a["wall_ms"] for a in answers) / 1000, 3),
            "session_ms": summary([t for a in answers for t in a["times_ms"]]),
            "cpu_ms_per_connect": per_ms(cpu["server_cpu_s"], connected),
            "rss_kb_idle": rss0,
            "rss_kb_connected": rss_n,
            "rss_kb_per_socket": round((rss_n - rss0) / connected, 1) if connected else None,
            "cpu": cpu,
        }
        if connected < size:
            result["error"] = f"only {connected} of {size} connected: {result['first_errors']}"
            return result
        first = gens.gens[0]
        await first.call("subgroup", 30, group="c", name="room", count=members)
        room = f"room-{secrets.token_hex(3)}"
        await first.call(
            "connect", 60, group="pub", url=srv.url, mode=mode, n=1,
            tokens=[tokens[-1]] if tokens else None, concurrency=1, transports=["websocket"],
            local_address=plan[0][0], timeout_s=30,
        )  # fmt: skip
        if kind == "parley":
            await first.call("create_topics", 60, group="pub", prefix=room, count=1)
            room = f"{room}-0"
        else:
            await first.call("join", 60, group="pub", room=room, mode=mode)
        joined = await first.call("join", limit, group="room", room=room, mode=mode, concurrency=50)
        if joined["failed"]:
            result["error"] = f"join failed: {joined['first_error']}"
            return result
        await quiet(pids, args.settle)
        window = Window(srv.pid, *gens.pids)
        answer = await first.call(
            "fanout", limit + 60, group="room", publisher_group="pub", room=room, mode=mode, rate=rate,
            messages=messages, body_size=64, timeout_s=limit,
        )  # fmt: skip
        cpu = window.stop()
        out(f"    {kind} {size}: fan-out p99 {answer['latency_ms'].get('p99')} ms")
        result["fanout"] = {
            "room": members,
            "messages": answer["messages"],
            "rate_messages_per_s": round(rate, 3),
            "deliveries_per_s": args.curve_deliveries,
            "deliveries": answer["deliveries"],
            "missing": answer["expected"] - answer["deliveries"],
            "out_of_order": answer["out_of_order"],
            "send_errors": answer["send_errors"],
            "timed_out": answer["timed_out"],
            "latency_ms": answer["latency_ms"],
            "cpu_ms_per_delivery": per_ms(
                cpu["server_cpu_s"], answer["deliveries"] + answer["publisher_self_deliveries"]
            ),
            "cpu": cpu,
        }
        if srv.notes:
            result["notes"] = srv.notes
        return result


async def connect_curve(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every size of ``--connect-curve`` on a fresh server of this kind; Parley's users registered once."""
    template: Path | None = None
    tokens: list[str] | None = None
    points: dict[str, Any] = {}
    try:
        if kind == "parley":
            template, tokens = await curve_template(args, max(args.curve_sizes) + 1)  # + the publisher
        for size in args.curve_sizes:
            points[str(size)] = await guarded(
                f"{kind}: {size} sockets",
                args.scenario_timeout,
                curve_point(kind, size, args, template, tokens),
            )
    finally:
        if template is not None:
            shutil.rmtree(template, ignore_errors=True)
    return points


CURVE_METRICS: list[tuple[str, tuple[str, ...], bool]] = [
    # (label, path in a point, a ratio to Node means something)
    ("server CPU ms per connect", ("cpu_ms_per_connect",), True),
    ("wall s until all connected", ("wall_s",), True),
    ("connect to `session` p99 ms", ("session_ms", "p99"), True),
    ("RSS KB per idle socket", ("rss_kb_per_socket",), True),
    ("fan-out p50 ms", ("fanout", "latency_ms", "p50"), True),
    ("fan-out p99 ms", ("fanout", "latency_ms", "p99"), True),
    ("server CPU ms per fan-out delivery", ("fanout", "cpu_ms_per_delivery"), True),
    ("fan-out deliveries missing", ("fanout", "missing"), False),
    ("clients that did not connect", ("failed",), False),
]


def curve_table(runs: list[dict[str, Any]], servers: list[str]) -> str:
    """The curve as markdown: one block of rows per size, median (min-max) over the runs, ratios to Node."""
    sizes = sorted(
        {
            int(size)
            for run in runs
            for server in run.values()
            for size in server.get("curve", {})
            if size.isdigit()
        }
    )
    others = [k for k in servers if k != "node" and "node" in servers]
    head = ["sockets", "metric", *servers, *[f"{k}/node" for k in others]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size in sizes:
        for label, path, ratio in CURVE_METRICS:
            values = {
                kind: [dig(run.get(kind, {}).get("curve", {}).get(str(size), {}), path) for run in runs]
                for kind in servers
            }
            if not any(v is not None for vs in values.values() for v in vs):
                continue
            cells = [f"{size:,}", label, *[cell(values[kind]).text() for kind in servers]]
            for kind in others:
                ratios = [
                    None if a is None or not b else a / b
                    for a, b in zip(values[kind], values["node"], strict=True)
                ]
                cells.append(cell(ratios).text(2) if ratio else "")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def guarded(what: str, timeout: float, coro: Any) -> dict[str, Any]:
    out(f"  {what} ...")
    started = time.perf_counter()
    try:
        result: dict[str, Any] = await asyncio.wait_for(coro, timeout)
    except Exception as exc:
        out(f"  {what} FAILED: {exc!r}"[:600])
        return {"error": repr(exc)[:1000]}
    out(f"  {what} done in {time.perf_counter() - started:.0f}s")
    return result


async def one_run(args: argparse.Namespace) -> dict[str, Any]:
    run: dict[str, Any] = {}
    if args.curve_sizes:
        for kind in args.servers:
            curve = await guarded(
                # each size has --scenario-timeout, and Parley's registration one more
                f"{kind}: connect curve",
                args.scenario_timeout * (len(args.curve_sizes) + 1),
                connect_curve(kind, args),
            )
            run[kind] = {"curve": curve}
        return run
    core = [s for s in args.scenario_list if s not in PARLEY_ONLY | OWN_SERVER]
    for kind in args.servers:
        if core:
            run[kind] = await guarded(
                f"{kind}: {','.join(core)}", args.scenario_timeout, core_scenarios(kind, args, set(core))
            )
        else:
            run[kind] = {}
        if "reactions" in args.scenario_list:
            run[kind]["reactions"] = await guarded(
                f"{kind}: reactions", args.scenario_timeout, scenario_reactions(kind, args)
            )
    if "parley" in args.servers:
        # Each Parley-only scenario in order: its name, what the progress line calls it, and its
        # coroutine (made only when the scenario was asked for); its result goes under the name
        # with underscores.
        sends, publish = partial(scenario_sends, args), partial(scenario_publish, args)
        parley_only: list[tuple[str, str, Callable[[], Coroutine[Any, Any, dict[str, Any]]]]] = [
            ("sends", "sends (SQLite)", partial(sends, "sqlite")),
            ("sends-mentions", "sends with 2 mentions (SQLite)", partial(sends, "sqlite", mentions=True)),
            ("sends-links", "sends with a link (SQLite)", partial(sends, "sqlite", link=True)),
            ("sends-pg", "sends (PostgreSQL)", partial(sends, "postgresql")),
            ("publish", "publish through the server API (SQLite)", publish),
            ("sends-heard", "sends heard by a second member (SQLite)", partial(sends, "sqlite", heard=True)),
            ("publish-heard", "publish heard by a second member (SQLite)", partial(publish, heard=True)),
            ("backlog", "backlog", partial(scenario_backlog, args)),
        ]  # fmt: skip
        for scenario, label, start in parley_only:
            if scenario in args.scenario_list:
                run["parley"][scenario.replace("-", "_")] = await guarded(
                    f"parley: {label}", args.scenario_timeout, start()
                )
    return run


# --------------------------------------------------------------------------- metrics and report

# (key, label, path in a server's result, lower is better)
METRICS: list[tuple[str, str, tuple[str, ...]]] = [
    ("connect_cpu_ms", "server CPU ms per connect (to `session`)", ("connect", "cpu_ms_per_connect")),
    ("connect_wall_s", "wall s until all clients connected", ("connect", "wall_s")),
    ("connect_p99_ms", "connect to `session` p99 ms", ("connect", "session_ms", "p99")),
    ("fanout_cpu_ms", "server CPU ms per fan-out delivery", ("fanout", "cpu_ms_per_delivery")),
    ("fanout_p50_ms", "fan-out delivery latency p50 ms", ("fanout", "latency_ms", "p50")),
    ("fanout_p99_ms", "fan-out delivery latency p99 ms", ("fanout", "latency_ms", "p99")),
    ("fanout_missing", "fan-out deliveries missing", ("fanout", "missing")),
    ("echo_cpu_ms", "server CPU ms per acked echo", ("echo", "cpu_ms_per_round_trip")),
    ("echo_per_s", "acked echoes per s (closed loop)", ("echo", "per_s")),
    (
        "reactions_cpu_ms",
        "server CPU ms per delivered `reaction:updated`",
        ("reactions", "cpu_ms_per_delivery"),
    ),
    ("reactions_per_s", "reaction storm: `reaction:updated` deliveries/s", ("reactions", "deliveries_per_s")),
    ("reactions_add_p50_ms", "`reaction:add` ack p50 ms", ("reactions", "add_ack_ms", "p50")),
    ("reactions_add_p95_ms", "`reaction:add` ack p95 ms", ("reactions", "add_ack_ms", "p95")),
    ("reactions_missing", "reaction storm: deliveries missing", ("reactions", "missing")),
    ("rss_kb_per_socket", "RSS KB per idle socket (at --clients)", ("connect", "rss_kb_per_socket")),
    (
        "rss_kb_per_socket_big",
        "RSS KB per added idle socket (--clients to --rss-sockets)",
        ("rss", "rss_kb_per_socket"),
    ),
    ("rss_sockets", "sockets reached for the RSS measurement", ("rss", "sockets")),
    ("sends_per_s", "durable sends/s, SQLite", ("sends", "sends_per_s")),
    ("sends_cpu_ms", "server CPU ms per durable send, SQLite", ("sends", "cpu_ms_per_send")),
    ("sends_mentions_per_s", "durable sends/s with 2 mentions, SQLite", ("sends_mentions", "sends_per_s")),
    (
        "sends_mentions_cpu_ms",
        "server CPU ms per durable send with 2 mentions, SQLite",
        ("sends_mentions", "cpu_ms_per_send"),
    ),
    ("sends_links_per_s", "durable sends/s with a link, SQLite", ("sends_links", "sends_per_s")),
    (
        "sends_links_cpu_ms",
        "server CPU ms per durable send with a link, SQLite",
        ("sends_links", "cpu_ms_per_send"),
    ),
    ("publish_per_s", "messages/s published through the server API, SQLite", ("publish", "per_s")),
    (
        "publish_cpu_ms",
        "server CPU ms per message published through the server API, SQLite",
        ("publish", "cpu_ms_per_message"),
    ),
    (
        "sends_heard_cpu_ms",
        "server CPU ms per durable send heard by a second member, SQLite",
        ("sends_heard", "cpu_ms_per_send"),
    ),
    (
        "publish_heard_cpu_ms",
        "server CPU ms per message published and heard by a second member, SQLite",
        ("publish_heard", "cpu_ms_per_message"),
    ),
    ("sends_pg_per_s", "durable sends/s, PostgreSQL", ("sends_pg", "sends_per_s")),
    ("sends_pg_cpu_ms", "server CPU ms per durable send, PostgreSQL", ("sends_pg", "cpu_ms_per_send")),
    ("sends_pg_db_cpu_ms", "PostgreSQL backends' CPU ms per send", ("sends_pg", "postgres_cpu_ms_per_send")),
    ("backlog_ms", "backlog: connect to last message, ms", ("backlog", "connect_to_last_ms")),
    ("backlog_cpu_ms", "backlog: server CPU ms per message", ("backlog", "cpu_ms_per_backlog_message")),
]
# Parley-only metrics are compared with this Node metric.
VERSUS_NODE = {
    "sends_cpu_ms": "echo_cpu_ms",
    "sends_mentions_cpu_ms": "echo_cpu_ms",
    "sends_links_cpu_ms": "echo_cpu_ms",
    "sends_pg_cpu_ms": "echo_cpu_ms",
}
NOT_RATIOS = {
    "sends_mentions_per_s",
    "sends_links_per_s",
    "reactions_per_s",
    "reactions_missing",
    "sends_pg_db_cpu_ms",
    "fanout_missing",
    "rss_sockets",
    "sends_per_s",
    "sends_pg_per_s",
    "backlog_ms",
    "echo_per_s",
}


def dig(value: Any, path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def noise(run: dict[str, Any]) -> list[float]:
    """other_processes_cores of every measured phase of a run."""
    values = []
    for server in run.values():
        if not isinstance(server, dict):
            continue
        for scenario in [*server.values(), *(point for _, point in curve_points(server))]:
            if isinstance(scenario, dict) and isinstance(scenario.get("cpu"), dict):
                values.append(scenario["cpu"]["other_processes_cores"])
    return values


@dataclass
class Cell:
    median: float | None
    low: float | None
    high: float | None
    n: int

    def text(self, digits: int = 3) -> str:
        if self.median is None:
            return "-"
        if self.n > 1 and self.low != self.high:
            return f"{fmt(self.median, digits)} ({fmt(self.low, digits)}-{fmt(self.high, digits)})"
        return fmt(self.median, digits)


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def cell(values: list[float | None]) -> Cell:
    present = [v for v in values if v is not None]
    if not present:
        return Cell(None, None, None, 0)
    return Cell(statistics.median(present), min(present), max(present), len(present))


def table(runs: list[dict[str, Any]], servers: list[str]) -> tuple[list[dict[str, Any]], str]:
    rows: list[dict[str, Any]] = []
    for key, label, path in METRICS:
        row: dict[str, Any] = {"metric": key, "label": label}
        for kind in servers:
            c = cell([dig(run.get(kind, {}), path) for run in runs])
            row[kind] = {"median": c.median, "min": c.low, "max": c.high, "n": c.n}
            row[f"{kind}_text"] = c.text()
        node_key = VERSUS_NODE.get(key, key)
        node_path = next(p for k, _, p in METRICS if k == node_key)
        if "node" in servers and key not in NOT_RATIOS:
            for kind in servers:
                if kind == "node" and key in VERSUS_NODE:
                    continue
                ratios = []
                for run in runs:
                    a, b = dig(run.get(kind, {}), path), dig(run.get("node", {}), node_path)
                    ratios.append(None if a is None or not b else a / b)
                c = cell(ratios)
                if c.median is not None and kind != "node":
                    row[f"{kind}_ratio"] = {"median": c.median, "min": c.low, "max": c.high}
                    row[f"{kind}_ratio_text"] = c.text(2) + (
                        "" if key not in VERSUS_NODE else " (vs node echo)"
                    )
        if any(row[kind]["n"] for kind in servers):
            rows.append(row)
    # The noise next to each server's numbers: other processes' cores, median over its measured phases.
    row = {"metric": "noise_cores", "label": "noise: other processes' cores (median of the phases)"}
    for kind in servers:
        c = cell([statistics.median(v) if (v := noise({kind: run.get(kind, {})})) else None for run in runs])
        row[kind] = {"median": c.median, "min": c.low, "max": c.high, "n": c.n}
        row[f"{kind}_text"] = c.text(2)
    rows.append(row)
    head = ["metric", *servers, *[f"{k}/node" for k in servers if k != "node" and "node" in servers]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["label"], *[row[f"{k}_text"] for k in servers]]
        cells += [row.get(f"{k}_ratio_text", "") for k in servers if k != "node" and "node" in servers]
        lines.append("| " + " | ".join(cells) + " |")
    return rows, "\n".join(lines)


def ratio_svg(rows: list[dict[str, Any]], title: str) -> str:
    """A small hand-written bar chart of the ratios to Node (log scale, 1 = as Node)."""
    import math

    bars = [
        (row["label"], kind, row[f"{kind}_ratio"])
        for row in rows
        for kind in ("floor", "plain", "parley")
        if row.get(f"{kind}_ratio") and row[f"{kind}_ratio"]["median"]
    ]
    colours = {"floor": "#9c9c9c", "plain": "#4c78a8", "parley": "#e45756"}
    left, width, bar_h, gap = 440, 420, 14, 6
    top = 50
    height = top + len(bars) * (bar_h + gap) + 40
    lo, hi = math.log10(0.1), math.log10(100.0)

    def x(v: float) -> float:
        v = min(max(v, 10**lo), 10**hi)
        return left + (math.log10(v) - lo) / (hi - lo) * width

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="10" y="20" font-size="14">{html.escape(title)}</text>',
        '<text x="10" y="38" fill="#555">ratio to Node socket.io (log scale; 1 = as Node; lower is better '
        "except per-second rates)</text>",
    ]
    for tick in (0.1, 0.3, 1, 3, 10, 30, 100):
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{height - 30}" '
            f'stroke="{"#000" if tick == 1 else "#ddd"}"/>'
            f'<text x="{x(tick):.1f}" y="{height - 16}" text-anchor="middle">{tick:g}</text>'
        )
    for i, (label, kind, ratio) in enumerate(bars):
        y = top + i * (bar_h + gap)
        x0, x1 = sorted((x(1.0), x(ratio["median"])))
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_h - 3}" text-anchor="end">{html.escape(label)} [{kind}]</text>'
            f'<rect x="{x0:.1f}" y="{y}" width="{max(1.0, x1 - x0):.1f}" height="{bar_h}" '
            f'fill="{colours[kind]}"/>'
        )
        if ratio["min"] is not None and ratio["max"] is not None and ratio["min"] != ratio["max"]:
            parts.append(
                f'<line x1="{x(ratio["min"]):.1f}" y1="{y + bar_h / 2}" x2="{x(ratio["max"]):.1f}" '
                f'y2="{y + bar_h / 2}" stroke="#000"/>'
            )
        label_x = x(max(ratio["median"], 1.0)) + 4
        parts.append(f'<text x="{label_x:.1f}" y="{y + bar_h - 3}">{ratio["median"]:.2f}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False)
    return done.stdout.strip()


def machine_facts() -> dict[str, Any]:
    facts = host_facts()
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        facts["node"] = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    lock = NODE_DIR / "package-lock.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        packages = json.loads(lock.read_text())["packages"]
        facts["socket.io"] = packages["node_modules/socket.io"]["version"]
        facts["socket.io-client"] = packages["node_modules/socket.io-client"]["version"]
    from importlib import metadata

    for package in ("python-socketio", "python-engineio", "uvicorn", "uvloop", "websockets", "orjson"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            facts[package] = metadata.version(package)
    facts["nofile_limit"] = resource.getrlimit(resource.RLIMIT_NOFILE)
    facts["pinning"] = (
        f"generator core {GENERATOR_CORE}, server core {SERVER_CORE}" if pinned("0") else "none"
    )
    return facts


def curve_points(server: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(size, result) of a server's connect curve, if it ran one."""
    curve = server.get("curve")
    if not isinstance(curve, dict):
        return []
    return [(size, point) for size, point in curve.items() if isinstance(point, dict)]


def markdown(results: dict[str, Any], table_md: str) -> str:
    meta = results["meta"]
    facts = meta["machine"]
    noise_all = [v for run in results["runs"] for v in noise(run)]
    lines = [
        f"# Parley against the reference servers ({meta['date']})",
        "",
        f"- command: `{meta['command']}`",
        f"- commit: {meta['commit']}; Parley code: {meta['parley_code']}",
        f"- machine: {facts.get('nproc')} cores, {facts.get('cpu')}, {facts.get('mem_total_mb')} MB; "
        f"Python {facts.get('python')}, Node {facts.get('node')}, socket.io {facts.get('socket.io')}, "
        f"socket.io-client {facts.get('socket.io-client')}, python-socketio {facts.get('python-socketio')}, "
        f"uvicorn {facts.get('uvicorn')}",
        f"- pinning: {facts.get('pinning')}",
        f"- runs: {len(results['runs'])}; parameters: {json.dumps(meta['params'])}",
        f"- noise: other processes used {fmt(min(noise_all, default=None), 2)}-"
        f"{fmt(max(noise_all, default=None), 2)} cores during the measured phases "
        f"(median {fmt(statistics.median(noise_all) if noise_all else None, 2)}); calibration "
        f"{meta.get('calibration_ms_start')} / {meta.get('calibration_ms_end')} ms (start / end)",
        "",
        "Cells: median (min-max) over the runs. Ratios are to Node (per run, then the median); "
        "durable sends are compared with Node's CPU per acked echo.",
        "",
        table_md,
        "",
    ]
    errors = [
        f"- run {i + 1} {kind}: {scenario}: {value['error']}"
        for i, run in enumerate(results["runs"])
        for kind, server in run.items()
        for scenario, value in ([("all", server)] if "error" in server else list(server.items()))
        if isinstance(value, dict) and "error" in value
    ] + [
        f"- run {i + 1} {kind}: {size} sockets: {point['error']}"
        for i, run in enumerate(results["runs"])
        for kind, server in run.items()
        for size, point in curve_points(server)
        if "error" in point
    ]
    if any(curve_points(server) for run in results["runs"] for server in run.values()):
        lines += [
            "## Connect curve",
            "",
            "A fresh server per size. Fan-out: a room of `curve_room` of the connected sockets (0: all of "
            "them) gets `curve_deliveries` deliveries/s in all, with every other socket connected and idle.",
            "",
            curve_table(results["runs"], results["meta"]["servers"]),
            "",
        ]
    if errors:
        lines += ["Failures:", "", *errors, ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main

QUICK = {
    "clients": 200,
    "rss_sockets": 1000,
    "fanout_messages": 15,
    "echo_clients": 50,
    "echo_per_client": 40,
    "senders": 20,
    "sends_per_client": 20,
    "backlog": 1000,
    "reaction_members": 100,
    "reaction_duration": 4.0,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    doc = __doc__ or ""
    p = argparse.ArgumentParser(
        prog="python -m bench.compare",
        description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split("\n\n", 1)[1] if "\n\n" in doc else None,
    )
    p.add_argument("--runs", type=int, default=1, help="repeat everything N times; report median and min-max")
    servers_help = "servers: " + ",".join(SERVERS) + " (and floor: connect, echo)"
    p.add_argument("--only", default=",".join(SERVERS), help=servers_help)
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated: " + ",".join(SCENARIOS))
    p.add_argument("--quick", action="store_true", help="small counts everywhere (a smoke run, ~minutes)")
    p.add_argument("--from-json", help="only re-render STEM.md and compare.svg from an earlier STEM.json")
    p.add_argument("--parley-rev", help="run Parley from this git revision (git archive to a temp dir)")
    p.add_argument(
        "--out", help="results file stem (default bench/results/compare-<UTC date>-<commit>[-quick])"
    )
    g = p.add_argument_group("counts")
    g.add_argument("--clients", type=int, default=1000, help="connect: clients; fanout: room size")
    g.add_argument("--connect-concurrency", type=int, default=100, help="connects in flight")
    g.add_argument("--rss-sockets", type=int, default=10000, help="idle sockets for the second RSS point")
    g.add_argument("--fanout-rate", type=float, default=5.0, help="messages/s into the room")
    g.add_argument("--fanout-messages", type=int, default=50, help="messages at --fanout-rate (~10 s)")
    g.add_argument("--echo-clients", type=int, default=100)
    g.add_argument("--echo-per-client", type=int, default=200, help="acked echoes per client, closed loop")
    g.add_argument("--senders", type=int, default=100, help="durable senders, each in its own topic")
    g.add_argument("--sends-per-client", type=int, default=50)
    g.add_argument("--reaction-members", type=int, default=500, help="reactions: members of the one topic")
    g.add_argument("--reactors", type=int, default=50, help="reactions: members that react (of those)")
    g.add_argument("--reaction-rate", type=float, default=50.0, help="reactions: add/remove per s in all")
    g.add_argument("--reaction-duration", type=float, default=10.0, help="reactions: seconds of reacting")
    g.add_argument("--reaction-emojis", type=int, default=5, help="reactions: distinct emoji (at most 20)")
    g.add_argument("--backlog", type=int, default=10000, help="messages sent while the member is offline")
    g.add_argument("--backlog-fillers", type=int, default=4, help="users sending the backlog over REST")
    g.add_argument("--backlog-fill-concurrency", type=int, default=32)
    g = p.add_argument_group("connect curve (instead of the scenarios)")
    g.add_argument(
        "--connect-curve", metavar="SIZES", help="comma-separated socket counts, e.g. 1000,10000,19000"
    )
    g.add_argument(
        "--curve-room", type=int, default=1000, help="fan-out room among the connected sockets (0: all)"
    )
    g.add_argument("--curve-deliveries", type=float, default=5000.0, help="fan-out deliveries/s in all")
    g.add_argument("--curve-fanout-seconds", type=float, default=10.0, help="how long the fan-out lasts")
    g.add_argument(
        "--clients-per-generator", type=int, default=5000, help="sockets per generator process (and address)"
    )
    g = p.add_argument_group("time")
    g.add_argument("--phase-timeout", type=float, default=180.0, help="seconds for one measured phase")
    g.add_argument(
        "--scenario-timeout", type=float, default=1200.0, help="seconds for one server's scenarios"
    )
    g.add_argument("--start-timeout", type=float, default=30.0)
    g.add_argument("--settle", type=float, default=1.0, help="seconds of quiet before RSS and between phases")
    args = p.parse_args(argv)
    apply_quick(args, argv, QUICK)
    args.servers = [s.strip() for s in args.only.split(",") if s.strip()]
    args.scenario_list = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if set(args.servers) - KNOWN_SERVERS:
        p.error(f"unknown servers: {set(args.servers) - KNOWN_SERVERS}")
    if "floor" in args.servers and set(args.scenario_list) - FLOOR_SCENARIOS:
        p.error(f"floor serves only {','.join(sorted(FLOOR_SCENARIOS))}")
    if set(args.scenario_list) - set(SCENARIOS):
        p.error(f"unknown scenarios: {set(args.scenario_list) - set(SCENARIOS)}")
    if args.reactors < 1 or args.reaction_members < 1 or not 1 <= args.reaction_emojis <= 20:
        p.error("reactions need --reactors and --reaction-members >= 1 and 1-20 --reaction-emojis")
    args.curve_sizes = []
    if args.connect_curve:
        try:
            args.curve_sizes = [int(size) for size in args.connect_curve.split(",") if size.strip()]
        except ValueError:
            p.error(f"--connect-curve takes socket counts: {args.connect_curve!r}")
        if "floor" in args.servers:
            p.error("floor has no rooms: the connect curve's fan-out needs node, plain or parley")
        if (why := refuse_sizes(args.curve_sizes, args.clients_per_generator)) is not None:
            p.error(why)
        if args.curve_deliveries <= 0 or args.curve_fanout_seconds <= 0:
            p.error("--curve-deliveries and --curve-fanout-seconds must be positive")
    return args


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {int(GENERATOR_CORE)})  # the orchestrator stays off the server's core
    raise_nofile()
    params = {
        k: getattr(args, k)
        for k in (
            *QUICK,
            "connect_concurrency",
            "fanout_rate",
            "reactors",
            "reaction_rate",
            "reaction_emojis",
            "backlog_fillers",
            "settle",
            "phase_timeout",
            "curve_sizes",
            "curve_room",
            "curve_deliveries",
            "curve_fanout_seconds",
            "clients_per_generator",
        )
    }
    results: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": shlex.join(["python", "-m", "bench.compare", *sys.argv[1:]]),
            "commit": git("rev-parse", "--short", "HEAD"),
            "parley_code": args.parley_code,
            "machine": machine_facts(),
            "params": params,
            "servers": args.servers,
            "scenarios": args.scenario_list,
            "calibration_ms_start": calibrate(),
        },
        "runs": [],
    }
    started = time.perf_counter()
    for i in range(args.runs):
        out(f"run {i + 1}/{args.runs}")
        results["runs"].append(await one_run(args))
        # After every run, so that an interrupted --runs N keeps what it measured (re-render: --from-json).
        Path(f"{args.stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    results["meta"]["calibration_ms_end"] = calibrate()
    results["meta"]["duration_s"] = round(time.perf_counter() - started)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        # Re-render the table, the markdown and the plot of an earlier (or interrupted) run.
        return report_files(
            json.loads(Path(args.from_json).read_text()), args.from_json.removesuffix(".json")
        )
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    suffix = "-quick" if args.quick else ""
    args.stem = args.out or str(RESULTS / f"compare-{date}-{git('rev-parse', '--short', 'HEAD')}{suffix}")
    Path(args.stem).parent.mkdir(parents=True, exist_ok=True)
    exported: Path | None = None
    args.parley_source = None
    args.parley_code = "working tree"
    if args.parley_rev:
        exported = snapshot(args.parley_rev, ROOT)
        args.parley_source = exported
        args.parley_code = f"git {args.parley_rev} = {git('rev-parse', '--short', args.parley_rev)}"
    if not (NODE_DIR / "node_modules" / "socket.io-client").exists():
        out(f"installing the reference packages: npm ci in {NODE_DIR}")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True)
    try:
        runner = asyncio.run
        with contextlib.suppress(ImportError):
            import uvloop

            runner = uvloop.run
        results = runner(main_async(args))
    except KeyboardInterrupt:
        out("interrupted (the processes this run started were stopped)")
        return 130
    finally:
        if exported is not None:
            shutil.rmtree(exported, ignore_errors=True)
    return report_files(results, args.stem)


def report_files(results: dict[str, Any], stem: str) -> int:
    """The table, ``STEM.json`` (with the table), ``STEM.md`` and ``compare.svg`` next to them."""
    rows, table_md = table(results["runs"], results["meta"]["servers"])
    results["table"] = rows
    Path(f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    report = markdown(results, table_md)
    Path(f"{stem}.md").write_text(report)
    svg = Path(stem).parent / "compare.svg"
    title = f"Parley ({results['meta']['parley_code']}) and plain python-socketio vs Node"
    svg.write_text(ratio_svg(rows, title + (" (--quick)" if stem.endswith("-quick") else "")))
    out()
    out(report)
    out(f"written: {stem}.json, {stem}.md, {svg}  ({results['meta'].get('duration_s')} s)")
    failed = any(
        "error" in server
        or any(isinstance(v, dict) and "error" in v for v in server.values())
        or any("error" in point for _, point in curve_points(server))
        for run in results["runs"]
        for server in run.values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
