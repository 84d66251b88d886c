"""Parley load generator: ``python -m bench.load [--scenarios ...] [--json FILE]``.

Scenarios (each on a fresh server unless ``--url`` is given):

fanout   S subscribers + P publishers in one topic; every publisher sends N
         messages with up to W unacknowledged. Send-ack latency, end-to-end
         delivery latency (the body carries the sender's monotonic clock; all
         clients live in this process), messages stored/s, deliveries/s, and a
         check that every socket got every message once, in ``seq`` order.
connect  C clients connect (websocket) and wait for ``session``: connects/s,
         server RSS before/after, RSS per socket.
backlog  one member is offline while K messages are sent, then connects:
         time from connect to ``session`` and to the last backlog message.
login    L concurrent logins with bcrypt at the server default (12 rounds)
         while /healthz is probed: logins/s and the event loop's latency.

Every scenario records the server's CPU time (utime+stime from /proc) over
its measured phase; CPU-ms per delivered message is less sensitive than
throughput to the client and the server sharing the same cores.

Everything is bounded: a per-scenario timeout, and the spawned server is
stopped by PID at the end, also on errors and Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp

from bench.client import SioClient
from bench.procs import (
    BENCH_ENV,
    FAST_BCRYPT,
    ProcSample,
    ServerProcess,
    calibrate,
    host_facts,
    machine_busy,
    sample,
    self_cpu,
    snapshot,
)
from bench.stats import fmt_summary, rate, summary

PASSWORD = "bench-password-1"
SCENARIOS = ("fanout", "connect", "backlog", "login")


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- target server


@dataclass
class Target:
    url: str
    pid: int | None
    server: ServerProcess | None = None
    notes: list[str] = field(default_factory=list)

    def sample(self) -> ProcSample | None:
        if self.pid is None:
            return None
        try:
            return sample(self.pid)
        except OSError:
            return None


@contextlib.asynccontextmanager
async def target_for(args: argparse.Namespace, env: dict[str, str], label: str) -> AsyncIterator[Target]:
    """The server for one scenario: ``--url`` as given, or a fresh child process."""
    if args.url:
        target = Target(args.url.rstrip("/"), args.pid)
        if args.pid is None:
            target.notes.append("no --pid: server CPU and RSS not measured")
        yield target
        return
    server = ServerProcess(env, label, args.server_source)
    await server.start(timeout=args.start_timeout)
    target = Target(server.url, server.pid, server)
    try:
        yield target
    finally:
        errors = server.errors()
        if errors:
            first = server.first_error()
            target.notes.append(f"server log has {len(errors)} error lines; the first: {first}")
        if args.server_logs:
            server.copy_log(Path(args.server_logs) / f"{label}-{server.pid}.log")
        await server.stop()


def http_session() -> aiohttp.ClientSession:
    # limit=0: websockets hold their connection; the default pool of 100 would stall the 101st.
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=15),
    )


async def register_users(
    http: aiohttp.ClientSession, url: str, prefix: str, count: int, concurrency: int = 16
) -> list[tuple[str, str]]:
    """Register ``count`` users; returns (username, token) in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> tuple[str, str]:
        name = f"{prefix}{i}"
        async with gate, http.post(f"{url}/api/users", json={"username": name, "password": PASSWORD}) as r:
            body = await r.json()
            if r.status != 201:
                raise RuntimeError(f"register {name}: HTTP {r.status} {body}")
            return name, body["token"]

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def connect_all(
    http: aiohttp.ClientSession, url: str, users: list[tuple[str, str]], concurrency: int
) -> list[SioClient]:
    gate = asyncio.Semaphore(concurrency)

    async def one(name: str, token: str) -> SioClient:
        async with gate:
            client = SioClient(http, url, token, name)
            await client.connect()
            await client.wait_session()
            return client

    return list(await asyncio.gather(*(one(n, t) for n, t in users)))


async def close_all(clients: list[SioClient]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def ok_data(answer: Any, what: str) -> Any:
    if not isinstance(answer, dict) or not answer.get("ok"):
        raise RuntimeError(f"{what} failed: {answer!r}")
    return answer.get("data")


class CpuWindow:
    """Server and client CPU over a measured phase."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.server0 = target.sample()
        self.client0 = self_cpu()
        self.machine0 = machine_busy()
        self.wall0 = time.perf_counter()
        self.server1: ProcSample | None = None
        self.client1 = 0.0
        self.machine1 = 0.0
        self.wall1 = 0.0

    def stop(self) -> CpuWindow:
        self.server1 = self.target.sample()
        self.client1 = self_cpu()
        self.machine1 = machine_busy()
        self.wall1 = time.perf_counter()
        return self

    @property
    def server_cpu(self) -> float | None:
        if self.server0 is None or self.server1 is None:
            return None
        return self.server1.cpu_s - self.server0.cpu_s

    @property
    def main_thread_cpu(self) -> float | None:
        if self.server0 is None or self.server1 is None:
            return None
        return self.server1.main_thread_cpu_s - self.server0.main_thread_cpu_s

    def report(self) -> dict[str, Any]:
        wall = self.wall1 - self.wall0
        client = self.client1 - self.client0
        server = self.server_cpu
        main = self.main_thread_cpu
        return {
            "wall_s": round(wall, 3),
            "server_cpu_s": None if server is None else round(server, 3),
            "server_cores": None if server is None else round(server / wall, 2),
            # The event loop thread; the rest is aiosqlite's threads and the thread pool (bcrypt).
            "server_loop_thread_cores": None if main is None else round(main / wall, 2),
            "server_other_threads_cores": None
            if main is None or server is None
            else round((server - main) / wall, 2),
            "server_kernel_share": None
            if not server or self.server0 is None or self.server1 is None
            else round((self.server1.system_cpu_s - self.server0.system_cpu_s) / server, 2),
            "client_cpu_s": round(client, 3),
            "client_cores": round(client / wall, 2),
            # Everything else running on the machine meanwhile (other tests, services): noise.
            "other_processes_cores": None
            if server is None
            else round(max(0.0, self.machine1 - self.machine0 - server - client) / wall, 2),
        }


def per(cpu: float | None, count: int) -> float | None:
    return None if cpu is None or count == 0 else round(cpu * 1000 / count, 4)


# --------------------------------------------------------------------------- message bookkeeping


class Receiver:
    """What one socket received in the topic under test: order, duplicates, latency."""

    def __init__(self, client: SioClient, topic: str, expected: int, done: Callable[[], None]) -> None:
        self.client = client
        self.topic = topic
        self.expected = expected
        self.done = done
        self.ids: set[int] = set()
        self.duplicates = 0
        self.order_violations = 0
        self.last_seq = 0
        self.latencies_ms: list[float] = []
        self.last_arrival = 0
        self.other_events = 0
        self.pending_delivered = 0
        self.acked_delivered = 0
        client.on_event = self.on_event

    def on_event(self, event: str, payload: Any, arrived: int) -> None:
        if event != "message" or not isinstance(payload, dict) or payload.get("topic") != self.topic:
            self.other_events += 1
            return
        message_id, seq = payload["id"], payload["seq"]
        if message_id in self.ids:
            self.duplicates += 1
            return
        self.ids.add(message_id)
        if seq <= self.last_seq:
            self.order_violations += 1
        self.last_seq = max(self.last_seq, seq)
        self.pending_delivered = max(self.pending_delivered, seq)
        sent = _sent_ns(payload.get("body", ""))
        if sent is not None:
            self.latencies_ms.append((arrived - sent) / 1e6)
        self.last_arrival = arrived
        if len(self.ids) == self.expected:
            self.done()


def _sent_ns(body: str) -> int | None:
    """Bodies look like ``b <publisher>:<index>:<perf_counter_ns> <padding>``."""
    try:
        return int(body.split(" ", 2)[1].split(":")[2])
    except (IndexError, ValueError):
        return None


def make_body(publisher: int, index: int, size: int) -> str:
    head = f"b {publisher}:{index}:{time.perf_counter_ns()} "
    return head + "x" * max(0, size - len(head))


async def send_many(
    client: SioClient,
    topic: str,
    publisher: int,
    count: int,
    window: int,
    body_size: int,
    ack_ms: list[float],
    failures: list[Any],
    acked_ids: set[int],
) -> float:
    """Send ``count`` messages with at most ``window`` unacknowledged; returns the last ack time."""
    next_index = 0
    last_ack = 0.0

    async def lane() -> None:
        nonlocal next_index, last_ack
        while next_index < count:
            index = next_index
            next_index += 1
            started = time.perf_counter_ns()
            payload = {
                "topic": topic,
                "body": make_body(publisher, index, body_size),
                "client_id": f"p{publisher}-{index}",
            }
            try:
                answer = await client.call("message:send", payload)
            except Exception as exc:
                failures.append(repr(exc))
                continue
            now = time.perf_counter_ns()
            ack_ms.append((now - started) / 1e6)
            last_ack = max(last_ack, now / 1e9)
            if isinstance(answer, dict) and answer.get("ok"):
                acked_ids.add(answer["data"]["id"])
            else:
                failures.append(answer)

    await asyncio.gather(*(lane() for _ in range(window)))
    return last_ack


async def delivered_acker(receivers: list[Receiver], interval: float, stop: asyncio.Event) -> int:
    """Cumulative ``delivered`` acks like the web page and the client demo: one per socket per interval."""
    sent = 0

    async def flush() -> None:
        nonlocal sent
        calls = []
        for r in receivers:
            if r.pending_delivered > r.acked_delivered:
                r.acked_delivered = r.pending_delivered
                calls.append(r.client.call("delivered", {"topic": r.topic, "seq": r.acked_delivered}))
        sent += len(calls)
        await asyncio.gather(*calls, return_exceptions=True)

    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        await flush()
    return sent


# --------------------------------------------------------------------------- scenarios


async def scenario_fanout(
    args: argparse.Namespace, target: Target, http: aiohttp.ClientSession
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    subs, pubs, n = args.subscribers, args.publishers, args.messages
    users = await register_users(http, target.url, f"f{run}u", subs + pubs)
    clients = await connect_all(http, target.url, users, args.connect_concurrency)
    publishers = clients[:pubs]  # the rest subscribe; publishers receive every message too
    topic = f"fanout-{run}"
    try:
        ok_data(await publishers[0].call("topic:create", {"name": topic}), "topic:create")
        answers = await asyncio.gather(*(c.call("topic:subscribe", {"topic": topic}) for c in clients[1:]))
        for answer in answers:
            ok_data(answer, "topic:subscribe")

        total = pubs * n
        all_done = asyncio.Event()
        remaining = len(clients)

        def one_done() -> None:
            nonlocal remaining
            remaining -= 1
            if remaining == 0:
                all_done.set()

        receivers = [Receiver(c, topic, total, one_done) for c in clients]
        ack_ms: list[float] = []
        failures: list[Any] = []
        acked_ids: set[int] = set()
        stop_acker = asyncio.Event()
        acker = (
            asyncio.create_task(delivered_acker(receivers, args.ack_interval, stop_acker))
            if args.delivered == "batch"
            else None
        )
        profiler = await start_profiler(args, target, "fanout")
        try:
            window = CpuWindow(target)
            started_s = time.perf_counter_ns() / 1e9
            last_acks = await asyncio.gather(
                *(
                    send_many(c, topic, i, n, args.window, args.body_size, ack_ms, failures, acked_ids)
                    for i, c in enumerate(publishers)
                )
            )
            timed_out = False
            try:
                await asyncio.wait_for(all_done.wait(), args.drain_timeout)
            except TimeoutError:
                timed_out = True
            window.stop()
        finally:
            stop_profiler(profiler)
            stop_acker.set()
        delivered_acks = await acker if acker is not None else 0
    finally:
        await close_all(clients)

    stored = len(acked_ids)
    deliveries = sum(len(r.ids) for r in receivers)
    last_arrival_s = max((r.last_arrival for r in receivers), default=0) / 1e9
    store_seconds = max(last_acks) - started_s
    delivery_seconds = last_arrival_s - started_s
    latencies = [x for r in receivers for x in r.latencies_ms]
    missing = sum(len(acked_ids - r.ids) for r in receivers)
    cpu = window.server_cpu
    result: dict[str, Any] = {
        "params": {
            "subscribers": subs,
            "publishers": pubs,
            "messages_per_publisher": n,
            "window": args.window,
            "body_size": args.body_size,
            "delivered_acks": args.delivered,
            "recipients_per_message": len(clients),
        },
        "messages_stored": stored,
        "deliveries": deliveries,
        "expected_deliveries": total * len(clients),
        "stored_per_s": rate(stored, store_seconds),
        "deliveries_per_s": rate(deliveries, delivery_seconds),
        "send_ack_ms": summary(ack_ms),
        "e2e_ms": summary(latencies),
        "server_cpu_ms_per_message": per(cpu, stored),
        "server_cpu_ms_per_delivery": per(cpu, deliveries),
        "delivered_acks_sent": delivered_acks,
        "violations": {
            "send_failures": len(failures),
            "missing": missing,
            "duplicates": sum(r.duplicates for r in receivers),
            "out_of_order": sum(r.order_violations for r in receivers),
            "dropped_sockets": sum(1 for r in receivers if r.client.dropped),
            "drain_timed_out": timed_out,
        },
        "cpu": window.report(),
    }
    if failures:
        result["first_failures"] = [repr(f)[:300] for f in failures[:3]]
    return result


async def scenario_connect(
    args: argparse.Namespace, target: Target, http: aiohttp.ClientSession
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    count = args.clients
    users = await register_users(http, target.url, f"c{run}u", count)
    await asyncio.sleep(0.5)
    before = target.sample()
    gate = asyncio.Semaphore(args.connect_concurrency)
    latencies: list[float] = []
    failures: list[str] = []
    clients: list[SioClient] = []

    async def one(name: str, token: str) -> None:
        async with gate:
            started = time.perf_counter()
            client = SioClient(http, target.url, token, name)
            try:
                await client.connect()
                await client.wait_session()
            except Exception as exc:
                failures.append(repr(exc))
                await client.close()
                return
            latencies.append((time.perf_counter() - started) * 1000)
            clients.append(client)

    profiler = await start_profiler(args, target, "connect")
    window = CpuWindow(target)
    try:
        try:
            await asyncio.gather(*(one(n, t) for n, t in users))
            window.stop()
        finally:
            stop_profiler(profiler)
        await asyncio.sleep(1.0)  # let the welcome tasks (session + empty backlog) settle
        after = target.sample()
    finally:
        await close_all(clients)
    await asyncio.sleep(args.presence_settle)
    closed = target.sample()
    connected = len(clients)
    result: dict[str, Any] = {
        "params": {"clients": count, "concurrency": args.connect_concurrency},
        "connected": connected,
        "failures": len(failures),
        "connects_per_s": rate(connected, window.wall1 - window.wall0),
        "connect_to_session_ms": summary(latencies),
        "server_cpu_ms_per_connect": per(window.server_cpu, connected),
        "cpu": window.report(),
    }
    if before is not None and after is not None:
        result["rss_mb_before"] = round(before.rss_kb / 1024, 1)
        result["rss_mb_connected"] = round(after.rss_kb / 1024, 1)
        result["rss_kb_per_socket"] = round((after.rss_kb - before.rss_kb) / max(connected, 1), 1)
        result["server_threads"] = after.threads
    if closed is not None:
        result["rss_mb_after_close"] = round(closed.rss_kb / 1024, 1)
    if failures:
        result["first_failures"] = failures[:3]
    return result


async def scenario_backlog(
    args: argparse.Namespace, target: Target, http: aiohttp.ClientSession
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    (pub_name, pub_token), (off_name, off_token) = await register_users(http, target.url, f"b{run}u", 2)
    topic = f"backlog-{run}"
    publisher = SioClient(http, target.url, pub_token, pub_name)
    await publisher.connect()
    await publisher.wait_session()
    try:
        ok_data(await publisher.call("topic:create", {"name": topic}), "topic:create")
        headers = {"Authorization": f"Bearer {off_token}"}
        async with http.post(f"{target.url}/api/topics/{topic}/subscribe", headers=headers) as r:
            if r.status != 200:
                raise RuntimeError(f"REST subscribe: HTTP {r.status} {await r.text()}")
        ack_ms: list[float] = []
        failures: list[Any] = []
        acked: set[int] = set()
        fill = CpuWindow(target)
        await send_many(
            publisher, topic, 0, args.backlog, args.window, args.body_size, ack_ms, failures, acked
        )
        fill.stop()
    finally:
        await publisher.close()
    expected = min(len(acked), args.backlog_cap)
    reps: list[dict[str, Any]] = []
    for _ in range(args.backlog_reps):
        await asyncio.sleep(0.3)
        done = asyncio.Event()
        client = SioClient(http, target.url, off_token, off_name)
        receiver = Receiver(client, topic, expected, done.set)
        window = CpuWindow(target)
        started = time.perf_counter_ns()
        timed_out = False
        try:
            await client.connect()
            await client.wait_session()
            session_at = time.perf_counter_ns()
            try:
                await asyncio.wait_for(done.wait(), args.drain_timeout)
            except TimeoutError:
                timed_out = True
            window.stop()
        finally:
            await client.close()
        reps.append(
            {
                "connect_to_session_ms": round((session_at - started) / 1e6, 2),
                "connect_to_last_ms": round((receiver.last_arrival - started) / 1e6, 2)
                if receiver.last_arrival
                else None,
                "received": len(receiver.ids),
                "duplicates": receiver.duplicates,
                "out_of_order": receiver.order_violations,
                "timed_out": timed_out,
                "server_cpu_ms": None if window.server_cpu is None else round(window.server_cpu * 1000, 1),
            }
        )
    last = sorted(r["connect_to_last_ms"] for r in reps if r["connect_to_last_ms"] is not None)
    cpu_ms = [r["server_cpu_ms"] for r in reps if r["server_cpu_ms"] is not None]
    return {
        "params": {"backlog": args.backlog, "cap": args.backlog_cap, "reps": args.backlog_reps},
        "expected": expected,
        "fill_stored_per_s": rate(len(acked), fill.wall1 - fill.wall0),
        "fill_send_ack_ms": summary(ack_ms),
        "fill_failures": len(failures),
        "fill_server_cpu_ms_per_message": per(fill.server_cpu, len(acked)),
        "fill_cpu": fill.report(),
        "connect_to_last_ms_median": last[len(last) // 2] if last else None,
        "backlog_msgs_per_s": round(expected / (last[len(last) // 2] / 1000), 1) if last else None,
        "server_cpu_ms_per_backlog_message": round(sorted(cpu_ms)[len(cpu_ms) // 2] / expected, 4)
        if cpu_ms and expected
        else None,
        "reps": reps,
    }


async def scenario_login(
    args: argparse.Namespace, target: Target, http: aiohttp.ClientSession
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    user_count = max(1, min(args.login_users, args.logins))
    users = await register_users(http, target.url, f"l{run}u", user_count, concurrency=user_count)

    async with http_session() as probe_http:

        async def probe_once() -> float:
            started = time.perf_counter()
            async with probe_http.get(f"{target.url}/healthz") as r:
                await r.read()
            return (time.perf_counter() - started) * 1000

        idle = [await probe_once() for _ in range(args.probes)]
        stop = asyncio.Event()
        storm: list[float] = []

        async def prober() -> None:
            while not stop.is_set():
                storm.append(await probe_once())
                await asyncio.sleep(args.probe_interval)

        login_ms: list[float] = []
        failures: list[str] = []

        async def login(i: int) -> None:
            name = users[i % user_count][0]
            started = time.perf_counter()
            try:
                async with http.post(
                    f"{target.url}/api/auth/login", json={"username": name, "password": PASSWORD}
                ) as r:
                    body = await r.read()
                    if r.status != 200:
                        failures.append(f"HTTP {r.status} {body[:200]!r}")
                        return
            except Exception as exc:
                failures.append(repr(exc))
                return
            login_ms.append((time.perf_counter() - started) * 1000)

        probing = asyncio.create_task(prober())
        await asyncio.sleep(0.05)
        window = CpuWindow(target)
        threads_peak = 0

        async def watch_threads() -> None:
            nonlocal threads_peak
            while not stop.is_set():
                s = target.sample()
                if s is not None:
                    threads_peak = max(threads_peak, s.threads)
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch_threads())
        await asyncio.gather(*(login(i) for i in range(args.logins)))
        window.stop()
        stop.set()
        await asyncio.gather(probing, watcher)
    ok = len(login_ms)
    return {
        "params": {
            "logins": args.logins,
            "users": user_count,
            "bcrypt_rounds": (args.login_rounds or 12) if not args.url else "as configured on the target",
        },
        "ok": ok,
        "failures": len(failures),
        "logins_per_s": rate(ok, window.wall1 - window.wall0),
        "login_ms": summary(login_ms),
        "healthz_idle_ms": summary(idle),
        "healthz_during_storm_ms": summary(storm),
        "server_cpu_ms_per_login": per(window.server_cpu, ok),
        "server_threads_peak": threads_peak or None,
        "cpu": window.report(),
        **({"first_failures": failures[:3]} if failures else {}),
    }


Scenario = Callable[[argparse.Namespace, Target, aiohttp.ClientSession], Awaitable[dict[str, Any]]]
RUNNERS: dict[str, Scenario] = {
    "fanout": scenario_fanout,
    "connect": scenario_connect,
    "backlog": scenario_backlog,
    "login": scenario_login,
}


def scenario_env(name: str, args: argparse.Namespace) -> dict[str, str]:
    env = dict(BENCH_ENV)
    if name == "login":
        # The server default (12) unless asked otherwise, whatever the caller's environment says.
        env["PARLEY_BCRYPT_ROUNDS"] = str(args.login_rounds or 12)
    else:
        env.update(FAST_BCRYPT)
    return env


# --------------------------------------------------------------------------- profiler (py-spy)


async def start_profiler(
    args: argparse.Namespace, target: Target, scenario: str
) -> subprocess.Popen[bytes] | None:
    """py-spy attached to the server for a scenario's measured phase (``--py-spy FILE``)."""
    if not args.py_spy or target.pid is None or scenario != args.py_spy_scenario:
        return None
    output = Path(args.py_spy)
    fmt = {".svg": "flamegraph", ".json": "speedscope"}.get(output.suffix, "raw")
    exe = Path(sys.executable).parent / "py-spy"
    command = [
        str(exe if exe.exists() else "py-spy"),
        "record",
        "--pid",
        str(target.pid),
        "--rate",
        str(args.py_spy_rate),
        "--format",
        fmt,
        "--output",
        str(output),
        "--function",
    ]
    # --native must pause the server at each sample; otherwise sample without stopping it.
    command.append("--native" if args.py_spy_native else "--nonblocking")
    if args.py_spy_threads:
        command.append("--threads")
    if args.py_spy_gil:
        command.append("--gil")
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    await asyncio.sleep(0.5)  # attach before the load starts
    if proc.poll() is not None:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        target.notes.append(f"py-spy did not attach: {err.strip()[:300]}")
        return None
    return proc


def stop_profiler(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGINT)  # py-spy writes its output on SIGINT
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=5)
    if proc.returncode:
        out(f"py-spy exited with {proc.returncode}: {err.decode(errors='replace').strip()[-500:]}")


# --------------------------------------------------------------------------- report


def machine_facts() -> dict[str, Any]:
    facts = host_facts()
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        facts["git_head"] = _git("rev-parse", "--short", "HEAD")
        facts["server_uncommitted"] = _git("status", "--porcelain", "--", "server", "db").splitlines()
    versions = {}
    for package in ("python-socketio", "python-engineio", "uvicorn", "websockets", "sqlalchemy", "aiosqlite"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    facts["versions"] = versions
    return facts


def _git(*args: str) -> str:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=5, check=False)
    return done.stdout.strip()


def flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and "p50" in value and "n" in value:
        rows.append((prefix, f"{fmt_summary(value)}  (n={value['n']})"))
    elif isinstance(value, dict):
        for key, inner in value.items():
            flatten(f"{prefix}.{key}" if prefix else key, inner, rows)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for i, inner in enumerate(value):
            flatten(f"{prefix}[{i}]", inner, rows)
    else:
        rows.append((prefix, str(value)))


def print_table(name: str, result: dict[str, Any]) -> None:
    rows: list[tuple[str, str]] = []
    flatten("", result, rows)
    width = max((len(k) for k, _ in rows), default=10)
    out(f"== {name} " + "=" * max(0, 70 - len(name)))
    for key, value in rows:
        out(f"  {key.ljust(width)}  {value}")
    out()


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated: " + ",".join(SCENARIOS))
    p.add_argument("--url", help="target an already running server instead of starting one per scenario")
    p.add_argument("--pid", type=int, help="with --url: the server's PID, for CPU and RSS")
    p.add_argument("--json", dest="json_path", help="write the results here")
    g = p.add_argument_group("fanout")
    g.add_argument("--subscribers", type=int, default=50)
    g.add_argument("--publishers", type=int, default=5)
    g.add_argument("--messages", type=int, default=200, help="per publisher")
    g.add_argument("--window", type=int, default=10, help="unacknowledged sends per publisher")
    g.add_argument("--body-size", type=int, default=64, help="message body length in characters")
    g.add_argument(
        "--delivered",
        choices=("none", "batch"),
        default="none",
        help="batch: each socket acks its highest seq every --ack-interval (as the web page does)",
    )
    g.add_argument("--ack-interval", type=float, default=0.5)
    g.add_argument("--drain-timeout", type=float, default=30.0, help="seconds to wait for the last delivery")
    g = p.add_argument_group("connect")
    g.add_argument("--clients", type=int, default=200)
    g.add_argument("--connect-concurrency", type=int, default=50, help="connects in flight")
    g.add_argument("--presence-settle", type=float, default=0.5)
    g = p.add_argument_group("backlog")
    g.add_argument("--backlog", type=int, default=1000, help="messages sent while the member is offline")
    g.add_argument("--backlog-cap", type=int, default=1000, help="the server's PARLEY_BACKLOG_PER_TOPIC")
    g.add_argument("--backlog-reps", type=int, default=3, help="reconnects measured (nothing is acked)")
    g = p.add_argument_group("login")
    g.add_argument("--logins", type=int, default=50)
    g.add_argument("--login-users", type=int, default=5, help="distinct accounts the logins rotate over")
    g.add_argument("--login-rounds", type=int, help="bcrypt rounds (default: 12, the server default)")
    g.add_argument("--probes", type=int, default=50, help="idle /healthz probes before the storm")
    g.add_argument("--probe-interval", type=float, default=0.01)
    g = p.add_argument_group("run")
    g.add_argument("--scenario-timeout", type=float, default=180.0)
    g.add_argument("--start-timeout", type=float, default=30.0)
    g.add_argument("--py-spy", help="record the server during fanout to FILE (.svg flamegraph, .txt raw)")
    g.add_argument("--py-spy-scenario", choices=("fanout", "connect"), default="fanout")
    g.add_argument("--py-spy-rate", type=int, default=250)
    g.add_argument("--py-spy-threads", action="store_true", help="one stack root per thread")
    g.add_argument("--py-spy-native", action="store_true", help="C frames too (pauses the server per sample)")
    g.add_argument("--py-spy-gil", action="store_true", help="only samples of the thread holding the GIL")
    g.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each scenario wait (at most SECONDS) until other processes use < 0.15 cores",
    )
    g.add_argument("--server-src", help="run the server package from this directory (a copy of the repo)")
    g.add_argument(
        "--server-rev",
        help="run the server from this git revision (exported with git archive to a temp dir), e.g. HEAD",
    )
    g.add_argument("--server-logs", help="copy each spawned server's log into this directory")
    g.add_argument("--no-uvloop", action="store_true", help="client loop: plain asyncio")
    args = p.parse_args(argv)
    args.scenario_list = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenario_list) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


async def wait_quiet(limit: float, threshold: float = 0.15) -> float:
    """Wait (at most ``limit`` seconds) until the rest of the machine uses under ``threshold`` cores."""
    deadline = time.monotonic() + limit
    while True:
        busy0, mine0 = machine_busy(), self_cpu()
        await asyncio.sleep(2.0)
        busy = max(0.0, (machine_busy() - busy0) - (self_cpu() - mine0)) / 2.0
        if busy < threshold or time.monotonic() > deadline:
            if busy >= threshold:
                out(f"machine still busy ({busy:.2f} cores) after {limit:.0f}s; measuring anyway")
            return round(busy, 2)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": shlex.join([Path(sys.executable).name, "-m", "bench.load", *sys.argv[1:]]),
            "machine": machine_facts(),
            "calibration_ms_start": calibrate(),
            "client_loop": "asyncio" if args.no_uvloop else "uvloop",
            "target": args.url or "fresh `parley serve` per scenario",
            "server_code": "unknown (--url)" if args.url else args.server_code,
        },
        "scenarios": {},
    }
    meta = results["meta"]
    out(f"parley bench  {meta['date']}  nproc={os.cpu_count()}  client loop={meta['client_loop']}")
    out("caveat: the load generator and the server share this machine's cores")
    out()
    for name in args.scenario_list:
        quiet = await wait_quiet(args.wait_quiet) if args.wait_quiet else None
        async with target_for(args, scenario_env(name, args), name) as target, http_session() as http:
            try:
                result = await asyncio.wait_for(RUNNERS[name](args, target, http), args.scenario_timeout)
            except Exception as exc:
                result = {"error": repr(exc)[:500]}
            if target.server is not None:
                result["server_pid"] = target.server.pid
        if quiet is not None:
            result["machine_busy_cores_before"] = quiet
        if target.notes:
            result["notes"] = target.notes
        results["scenarios"][name] = result
        print_table(name, result)
    results["meta"]["calibration_ms_end"] = calibrate()
    out(
        f"calibration (fixed CPU work, lower is faster): {results['meta']['calibration_ms_start']} ms "
        f"before, {results['meta']['calibration_ms_end']} ms after"
    )
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    repo = Path(__file__).resolve().parent.parent
    exported: Path | None = None
    args.server_source = None
    args.server_code = "working tree"
    if args.server_rev:
        exported = snapshot(args.server_rev, repo)
        args.server_source = exported
        args.server_code = f"git {args.server_rev} = {_git('rev-parse', '--short', args.server_rev)}"
    elif args.server_src:
        args.server_source = Path(args.server_src).resolve()
        args.server_code = str(args.server_source)
    try:
        return _main(args)
    finally:
        if exported is not None:
            shutil.rmtree(exported, ignore_errors=True)


def _main(args: argparse.Namespace) -> int:
    runner: Callable[[Awaitable[Any]], Any] = asyncio.run
    if not args.no_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            runner = uvloop.run
    try:
        results = runner(run(args))
    except KeyboardInterrupt:
        out("interrupted (the servers this run started were stopped)")
        return 130
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(results, indent=2) + "\n")
        out(f"results written to {args.json_path}")
    failed = [n for n, r in results["scenarios"].items() if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
