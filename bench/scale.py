"""Fan-out across processes: ``python -m bench.scale [--runs N] [--configs ...]``.

What one Parley process delivers per second and what each delivery costs in
CPU, against the same with the Redis hub, with ``--workers 2`` and with two
nodes on two ports. Configurations (``--configs``):

single        one ``parley serve``, no Redis (the baseline)
single-redis  one ``parley serve`` with PARLEY_REDIS_URL (a unique channel): the hub's cost
workers2      ``parley serve --workers 2`` with Redis, PARLEY_TRANSPORTS=websocket
nodes2        two ``parley serve`` on two ports with Redis; receivers and publishers split
single-sqlite as ``single`` on SQLite (not in the default set)

All but ``single-sqlite`` use a fresh PostgreSQL database per run
(``bench_<random>`` on 127.0.0.1:5432, user postgres, trust; dropped at the end),
so the database is not the variable. Everything is on loopback.

Workload, per configuration and run: ``--receivers`` (300) websocket clients and
``--publishers`` (4) more, each its own user, all members of one public topic.
The load generator is bench.compare's Node process on the official
``socket.io-client`` (``bench/reference/node/gen.js``), unpinned, a separate
process, so its CPU is not the servers'. After an unmeasured warm-up, two
measured phases:

rate   publisher 0 sends ``--rate-messages`` at ``--rate`` per second (below saturation):
       server CPU per delivery and delivery latency p50/p99 (send to receive, the
       generator's clock) at a fixed load
max    every publisher sends ``--per-publisher`` messages with at most ``--window``
       unacknowledged ("as fast as acks allow"): deliveries per second, CPU per delivery

A delivery is one ``message`` event received by one socket; the publishers'
own copies count (every socket in the topic gets each message). Server CPU
is utime+stime of every process of the configuration (the ``parley serve``
PIDs and their descendants, found through /proc/PID/task/*/children) over the
phase. Redis is another process, reported apart: ``used_cpu_sys+used_cpu_user``
and ``total_net_input_bytes`` deltas of ``INFO`` per message sent. The
PostgreSQL backends of the run's database are reported apart too (rough:
backends opened and closed inside the phase are missed).

Every process started here (servers in their own process group, the generator)
is stopped by PID / process group at the end, also on errors; every phase has a
time limit and the whole run ``--time-limit``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio

from bench.compare import (
    Generator,
    postgres_backends_cpu,
    postgres_database,
    quiet,
    raise_nofile,
    register,
)
from bench.procs import (
    BENCH_ENV,
    FAST_BCRYPT,
    ROOT,
    calibrate,
    free_port,
    host_facts,
    machine_busy,
    parley_command,
    wait_healthy,
)
from bench.procs import sample as proc_sample

RESULTS = ROOT / "bench" / "results"
REDIS_URL = "redis://127.0.0.1:6379/0"
CONFIGS = ("single", "single-redis", "workers2", "nodes2", "single-sqlite")
DEFAULT_CONFIGS = ("single", "single-redis", "workers2", "nodes2")


@dataclass(frozen=True)
class Config:
    name: str
    nodes: int
    workers: int
    redis: bool
    postgres: bool


CONFIG = {
    "single": Config("single", 1, 1, False, True),
    "single-redis": Config("single-redis", 1, 1, True, True),
    "workers2": Config("workers2", 1, 2, True, True),
    "nodes2": Config("nodes2", 2, 1, True, True),
    "single-sqlite": Config("single-sqlite", 1, 1, False, False),
}


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- processes


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (/proc/PID/task/*/children, recursively)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with contextlib.suppress(OSError):
                    with open(f"/proc/{current}/task/{task}/children") as f:
                        todo.extend(int(x) for x in f.read().split())
    return found


def cpu_of(pids: list[int]) -> dict[int, float]:
    result = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            result[pid] = proc_sample(pid).cpu_s
    return result


class Node:
    """One ``parley serve`` (with its workers) in its own process group, stopped by that group."""

    def __init__(self, env: dict[str, str], workers: int, label: str) -> None:
        self.env, self.workers, self.label = env, workers, label
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.data_dir = Path(tempfile.mkdtemp(prefix="parley-scale-"))
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    async def start(self, timeout: float) -> None:
        self.port = free_port()
        env = dict(os.environ)
        env.update(self.env)
        env["PARLEY_DATA_DIR"] = str(self.data_dir)
        self._log = open(self.log_path, "wb")  # closed in stop()
        command = [*parley_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        self.proc = subprocess.Popen(
            command,
            cwd=self.data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_nofile,
            start_new_session=True,  # its own process group: the workers are stopped with it
        )
        deadline = time.monotonic() + timeout
        await wait_healthy(self.url, timeout)
        # With --workers, /healthz answers once one worker is up: wait for all of them, then idle.
        while self.workers > 1 and len(descendants(self.proc.pid)) < self.workers + 1:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{self.label}: workers did not start:\n{self.log_tail()}")
            await asyncio.sleep(0.2)
        await quiet(self.pids(), 0.5, limit=20)

    def pids(self) -> list[int]:
        return descendants(self.proc.pid) if self.proc is not None and self.proc.poll() is None else []

    def errors(self) -> list[str]:
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if "ERROR" in line or "CRITICAL" in line or "Traceback" in line]

    def log_tail(self, n: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    async def stop(self, grace: float = 10.0) -> None:
        proc = self.proc
        if proc is not None:
            pgid = proc.pid  # start_new_session: the group is ours, its id is the PID
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)  # stragglers of the group (workers), if any
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def cluster(config: Config, args: argparse.Namespace, notes: list[str]) -> AsyncIterator[list[Node]]:
    async with contextlib.AsyncExitStack() as stack:
        env = dict(BENCH_ENV)
        env.update(FAST_BCRYPT)
        env["PARLEY_JWT_SECRET"] = secrets.token_urlsafe(48)  # one for all nodes
        env["PARLEY_MAX_CONNECTIONS_PER_USER"] = "1000"
        if config.postgres:
            env["PARLEY_DATABASE_URL"] = await stack.enter_async_context(postgres_database())
        if config.redis:
            env["PARLEY_REDIS_URL"] = REDIS_URL
            env["PARLEY_REDIS_CHANNEL"] = f"bench-scale-{secrets.token_hex(4)}"
        if config.workers > 1:
            env["PARLEY_TRANSPORTS"] = "websocket"
        nodes = [Node(env, config.workers, f"{config.name}-{i}") for i in range(config.nodes)]
        if config.postgres:
            # Once, before the nodes (they would otherwise race to migrate the new database).
            full = {**os.environ, **env, "PARLEY_DATA_DIR": str(nodes[0].data_dir)}
            subprocess.run(
                [*parley_command(), "migrate"], env=full, cwd=nodes[0].data_dir, check=True,
                capture_output=True, timeout=120,
            )  # fmt: skip
        try:
            for node in nodes:
                await node.start(args.start_timeout)
            yield nodes
        finally:
            for node in nodes:
                await node.stop()
                errors = node.errors()
                if errors:
                    notes.append(
                        f"{node.label}: {len(errors)} error lines in the log; first: {errors[0][:300]}"
                    )
                    if args.keep_logs:
                        keep = Path(args.keep_logs) / f"{node.label}-{int(time.time())}.log"
                        keep.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(node.log_path, keep)
                node.cleanup()


@contextlib.asynccontextmanager
async def generator() -> AsyncIterator[Generator]:
    gen = Generator(core=None)  # unpinned
    await gen.start()
    try:
        yield gen
    finally:
        await gen.stop()


# --------------------------------------------------------------------------- measuring


async def redis_counters(client: redis.asyncio.Redis | None) -> dict[str, float]:
    if client is None:
        return {}
    cpu = await client.info("cpu")
    stats = await client.info("stats")
    return {
        "cpu_s": float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]),
        "in_bytes": float(stats["total_net_input_bytes"]),
        "out_bytes": float(stats["total_net_output_bytes"]),
        "commands": float(stats["total_commands_processed"]),
    }


async def redis_idle_cores(client: redis.asyncio.Redis | None, seconds: float = 2.0) -> float:
    """Redis's CPU while the servers idle (its cron, presence heartbeats, other users of this Redis)."""
    if client is None:
        return 0.0
    before = await redis_counters(client)
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    after = await redis_counters(client)
    return (after["cpu_s"] - before["cpu_s"]) / (time.perf_counter() - started)


class Window:
    """CPU of the server processes, the generator, Redis, PostgreSQL and the rest over one phase."""

    def __init__(
        self, nodes: list[Node], gen_pid: int, pg_url: str, redis_client: Any, redis_idle: float
    ) -> None:
        self.nodes, self.gen_pid, self.pg_url, self.redis = nodes, gen_pid, pg_url, redis_client
        self.redis_idle = redis_idle  # cores, measured just before: subtracted from Redis's CPU

    async def __aenter__(self) -> Window:
        self.pids = [pid for node in self.nodes for pid in node.pids()]
        self.s0 = cpu_of(self.pids)
        self.g0 = cpu_of([self.gen_pid])
        self.pg0 = postgres_backends_cpu(self.pg_url) if self.pg_url else {}
        self.r0 = await redis_counters(self.redis)
        self.m0, self.w0 = machine_busy(), time.perf_counter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.w0
        m1 = machine_busy()
        s1 = cpu_of(self.pids)
        g1 = cpu_of([self.gen_pid])
        r1 = await redis_counters(self.redis)
        pg1 = postgres_backends_cpu(self.pg_url) if self.pg_url else {}
        server = sum(s1[p] - self.s0[p] for p in s1 if p in self.s0)
        per_process = {p: round(s1[p] - self.s0[p], 3) for p in s1 if p in self.s0}
        gen = sum(g1[p] - self.g0.get(p, 0.0) for p in g1)
        pg = sum(cpu - self.pg0.get(pid, 0.0) for pid, cpu in pg1.items())
        redis_total = r1["cpu_s"] - self.r0["cpu_s"] if r1 and self.r0 else 0.0
        redis_cpu = max(0.0, redis_total - self.redis_idle * wall)
        other = max(0.0, (m1 - self.m0) - server - gen - pg - redis_total)
        self.result = {
            "wall_s": round(wall, 3),
            "server_cpu_s": round(server, 3),
            "server_cores": round(server / wall, 2),
            "server_cpu_s_per_process": per_process,
            "generator_cores": round(gen / wall, 2),
            "postgres_cpu_s": round(pg, 3),
            "redis_cpu_s": round(redis_cpu, 4) if r1 else None,
            "redis_cpu_s_total": round(redis_total, 4) if r1 else None,
            "redis_idle_cores": round(self.redis_idle, 4) if r1 else None,
            "redis_commands": int(r1["commands"] - self.r0["commands"]) if r1 else None,
            "redis_in_bytes": int(r1["in_bytes"] - self.r0["in_bytes"]) if r1 else None,
            "redis_out_bytes": int(r1["out_bytes"] - self.r0["out_bytes"]) if r1 else None,
            "other_cores": round(other / wall, 2),  # the rest of the machine (this process too)
        }


def us(cpu_s: float | None, count: int) -> float | None:
    return None if cpu_s is None or count <= 0 else round(cpu_s * 1e6 / count, 1)


def per(total: float | None, count: int, digits: int = 0) -> float | None:
    return None if total is None or count <= 0 else round(total / count, digits)


def phase_result(answer: dict[str, Any], cpu: dict[str, Any], messages: int) -> dict[str, Any]:
    deliveries = answer["deliveries"] + answer["publisher_self_deliveries"]
    expected = answer["expected"] + answer.get("expected_self", answer["publisher_self_deliveries"])
    return {
        "messages": messages,
        "deliveries": deliveries,
        "expected_deliveries": expected,
        "missing": expected - deliveries,
        "out_of_order": answer["out_of_order"],
        "send_errors": answer["send_errors"],
        "first_error": answer.get("first_error"),
        "timed_out": answer["timed_out"],
        "wall_s": answer["wall_s"],
        "deliveries_per_s": round(deliveries / answer["wall_s"]) if answer["wall_s"] else None,
        "messages_per_s": round(messages / answer["wall_s"], 1) if answer["wall_s"] else None,
        "latency_ms": answer["latency_ms"],
        "ack_ms": answer["ack_ms"],
        "server_us_per_delivery": us(cpu["server_cpu_s"], deliveries),
        "server_us_per_message": us(cpu["server_cpu_s"], messages),
        "postgres_us_per_message": us(cpu["postgres_cpu_s"], messages),
        "redis_us_per_message": us(cpu["redis_cpu_s"], messages),
        "redis_in_bytes_per_message": per(cpu["redis_in_bytes"], messages),
        "redis_out_bytes_per_message": per(cpu["redis_out_bytes"], messages),
        "redis_commands_per_message": per(cpu["redis_commands"], messages, 2),
        "cpu": cpu,
    }


# --------------------------------------------------------------------------- one run of one configuration


async def run_config(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    notes: list[str] = []
    result: dict[str, Any] = {"config": config.name, "notes": notes}
    redis_client = redis.asyncio.Redis.from_url(REDIS_URL) if config.redis else None
    try:
        async with cluster(config, args, notes) as nodes, generator() as gen:
            pg_url = nodes[0].env.get("PARLEY_DATABASE_URL", "")
            limit = args.phase_timeout
            r, k = args.receivers, args.publishers
            tokens = await asyncio.wait_for(register(nodes[0].url, f"s{secrets.token_hex(3)}u", r + k), 300)
            receiver_tokens, publisher_tokens = tokens[:r], tokens[r:]

            async def connect(group: str, group_tokens: list[str]) -> None:
                # Split across the nodes: node i gets the i-th share.
                share = -(-len(group_tokens) // len(nodes))
                for i, node in enumerate(nodes):
                    part = group_tokens[i * share : (i + 1) * share]
                    if not part:
                        continue
                    answer = await gen.call(
                        "connect", limit + 30, group=group, url=node.url, mode="parley", n=len(part),
                        tokens=part, concurrency=50, transports=["websocket"], timeout_s=limit,
                    )  # fmt: skip
                    if answer["failed"]:
                        raise RuntimeError(
                            f"{answer['failed']} {group} sockets did not connect: {answer['first_errors']}"
                        )

            await connect("c", receiver_tokens)
            await connect("pub", publisher_tokens)
            prefix = f"scale-{secrets.token_hex(3)}"
            created = await gen.call("create_topics", 60, group="pub", prefix=prefix, count=1)
            if created["failed"]:
                raise RuntimeError("topic:create failed")
            room = f"{prefix}-0"
            for group, start in (("pub", 1), ("c", 0)):
                joined = await gen.call(
                    "join", limit, group=group, room=room, mode="parley", concurrency=50, **{"from": start}
                )
                if joined["failed"]:
                    raise RuntimeError(f"join failed: {joined['first_error']}")
            pids = [p for node in nodes for p in node.pids()]
            result["server_processes"] = len(pids)
            # Warm-up (unmeasured): first-message paths, Node's JIT.
            warm = await gen.call(
                "blast", limit + 30, group="c", publisher_group="pub", room=room, publishers=k,
                per_publisher=10, window=2, body_size=64, timeout_s=limit,
            )  # fmt: skip
            if warm["timed_out"] or warm["send_errors"]:
                notes.append(
                    f"warm-up: {warm['deliveries']}/{warm['expected']}, {warm['send_errors']} send errors"
                )

            await quiet([*pids, gen.pid], args.settle)
            idle = await redis_idle_cores(redis_client)
            async with Window(nodes, gen.pid, pg_url, redis_client, idle) as window:
                answer = await gen.call(
                    "fanout", limit + 60, group="c", publisher_group="pub", room=room, mode="parley",
                    rate=args.rate, messages=args.rate_messages, body_size=64, timeout_s=limit,
                )  # fmt: skip
            # Every socket of "pub" is in the room; gen's fanout counts only the first one's copies:
            # the other publishers' are counted as sent (their sockets are alive, they got the warm-up).
            others = (k - 1) * answer["messages"]
            answer["deliveries"] += others
            answer["expected"] += others
            rate = phase_result(answer, window.result, answer["messages"])
            rate["target_deliveries_per_s"] = args.rate * (r + 1)
            result["rate"] = rate

            await quiet([*pids, gen.pid], args.settle)
            idle = await redis_idle_cores(redis_client)
            async with Window(nodes, gen.pid, pg_url, redis_client, idle) as window:
                answer = await gen.call(
                    "blast", limit + 60, group="c", publisher_group="pub", room=room, publishers=k,
                    per_publisher=args.per_publisher, window=args.window, body_size=64, timeout_s=limit,
                )  # fmt: skip
            result["max"] = phase_result(answer, window.result, answer["messages"])
            if answer["foreign"]:
                notes.append(f"max: {answer['foreign']} messages of another topic")
            await gen.call("close", 60, group="pub")
            await gen.call("close", 120, group="c")
    finally:
        if redis_client is not None:
            await redis_client.aclose()
    return result


# --------------------------------------------------------------------------- report


def median_spread(values: list[float | None]) -> tuple[float | None, float | None, float | None]:
    got = [v for v in values if v is not None]
    if not got:
        return None, None, None
    return statistics.median(got), min(got), max(got)


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def cell(values: list[float | None], digits: int = 0) -> str:
    med, low, high = median_spread(values)
    if med is None:
        return "-"
    if len([v for v in values if v is not None]) == 1 or low == high:
        return fmt(med, digits)
    return f"{fmt(med, digits)} ({fmt(low, digits)}-{fmt(high, digits)})"


def pick(runs: list[dict[str, Any]], phase: str, *path: str) -> list[float | None]:
    values: list[float | None] = []
    for run in runs:
        node: Any = run.get(phase)
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        values.append(node)
    return values


MAX_COLUMNS = [
    ("deliveries/s", ("deliveries_per_s",), 0),
    ("messages/s", ("messages_per_s",), 0),
    ("server CPU us / delivery", ("server_us_per_delivery",), 1),
    ("server cores", ("cpu", "server_cores"), 2),
    ("generator cores", ("cpu", "generator_cores"), 2),
    ("other cores", ("cpu", "other_cores"), 2),
    ("Redis CPU us / msg", ("redis_us_per_message",), 1),
    ("Redis bytes in / msg", ("redis_in_bytes_per_message",), 0),
    ("Redis commands / msg", ("redis_commands_per_message",), 2),
    ("PostgreSQL CPU us / msg", ("postgres_us_per_message",), 0),
    ("ack p50 ms", ("ack_ms", "p50"), 1),
    ("ack p99 ms", ("ack_ms", "p99"), 1),
]
RATE_COLUMNS = [
    ("server CPU us / delivery", ("server_us_per_delivery",), 1),
    ("server cores", ("cpu", "server_cores"), 2),
    ("other cores", ("cpu", "other_cores"), 2),
    ("Redis CPU us / msg", ("redis_us_per_message",), 1),
    ("latency p50 ms", ("latency_ms", "p50"), 1),
    ("latency p99 ms", ("latency_ms", "p99"), 1),
]


def table(results: dict[str, list[dict[str, Any]]], phase: str, columns: list[Any]) -> list[str]:
    head = ["configuration", "runs", *(c[0] for c in columns), "missing"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for name, runs in results.items():
        ok = [r for r in runs if phase in r]
        if not ok:
            error = runs[0].get("error", "?") if runs else "?"
            lines.append(f"| {name} | 0/{len(runs)} | error: {error} |")
            continue
        cells = [cell(pick(ok, phase, *path), digits) for _, path, digits in columns]
        missing = sum(v or 0 for v in pick(ok, phase, "missing"))
        lines.append("| " + " | ".join([name, f"{len(ok)}/{len(runs)}", *cells, f"{missing:.0f}"]) + " |")
    return lines


def report(results: dict[str, list[dict[str, Any]]], meta: dict[str, Any]) -> str:
    k, per_pub, r = meta["publishers"], meta["per_publisher"], meta["receivers"]
    lines = [
        f"# Fan-out across processes ({meta['date']}, {meta['revision']})",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Host: {json.dumps(meta['host'])}; calibration {meta['calibration_ms_start']} ms at the start, "
        f"{meta['calibration_ms_end']} ms at the end; load average at the start {meta['loadavg_start']}, "
        f"at the end {meta['loadavg_end']}. Wall time {meta['wall_s']} s.",
        "",
        f"Workload: {r} receivers + {k} publishers (each its own user, websocket, official "
        "socket.io-client in one unpinned Node process) in one public topic. "
        f"`max`: each publisher sends {per_pub} messages, at most {meta['window']} unacknowledged "
        f"({k * per_pub} messages, {k * per_pub * (r + k):,} deliveries). "
        f"`rate`: one publisher, {meta['rate_messages']} messages at {meta['rate']}/s. "
        "Median of the runs, (min-max) when they differ. Server CPU: all processes of the "
        "configuration (parent and workers); Redis (minus its idle CPU measured just before) and "
        "PostgreSQL are their own processes, per message sent. Other cores: the rest of the machine.",
        "",
        "## Saturated (`max`)",
        "",
        *table(results, "max", MAX_COLUMNS),
        "",
        f"## Fixed rate (`rate`: {meta['rate']} messages/s, ~{meta['rate'] * (r + k):,.0f} deliveries/s)",
        "",
        *table(results, "rate", RATE_COLUMNS),
        "",
        "In `rate` the generator counts the receivers' copies and publisher 0's; the other publishers' "
        "copies are counted as delivered.",
        "",
    ]
    problems = []
    for name, runs in results.items():
        for i, run in enumerate(runs, 1):
            if "error" in run:
                problems.append(f"- {name} run {i}: error {run['error']}")
            for phase in ("rate", "max"):
                p = run.get(phase)
                if p and (p["missing"] or p["out_of_order"] or p["send_errors"] or p["timed_out"]):
                    problems.append(
                        f"- {name} run {i} {phase}: missing {p['missing']}, "
                        f"out of order {p['out_of_order']}, send errors {p['send_errors']} "
                        f"({p['first_error']}), timed out {p['timed_out']}"
                    )
            problems += [f"- {name} run {i}: {note}" for note in run.get("notes", [])]
    lines += ["## Problems", "", *(problems or ["None: every delivery arrived, in order, no errors."]), ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def revision() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "server", "db"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


async def main_async(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in configs if c not in CONFIG]
    if unknown:
        raise SystemExit(f"unknown configuration(s) {unknown}; known: {', '.join(CONFIGS)}")
    if any(CONFIG[c].redis for c in configs):
        probe = redis.asyncio.Redis.from_url(REDIS_URL)
        try:
            await probe.ping()
        finally:
            await probe.aclose()
    meta: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "revision": revision(),
        "command": shlex.join([Path(sys.executable).name, "-m", "bench.scale", *sys.argv[1:]]),
        "host": host_facts(),
        "calibration_ms_start": calibrate(),
        "loadavg_start": loadavg(),
        **{
            k: getattr(args, k)
            for k in ("receivers", "publishers", "per_publisher", "window", "rate", "rate_messages")
        },
    }
    results: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    deadline = time.monotonic() + args.time_limit
    # Interleaved (1 2 3 4, 1 2 3 4, ...): the machine's drift spreads over all configurations.
    for run in range(1, args.runs + 1):
        for name in configs:
            left = deadline - time.monotonic()
            if left < 30:
                results[name].append({"config": name, "error": "skipped: --time-limit reached"})
                out(f"{name} run {run}: skipped (time limit)")
                continue
            out(f"{name} run {run}/{args.runs} ...")
            try:
                res = await asyncio.wait_for(run_config(CONFIG[name], args), min(left, args.config_timeout))
            except Exception as exc:
                res = {"config": name, "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
            results[name].append(res)
            if "max" in res:
                m, r = res["max"], res["rate"]
                out(
                    f"  max {m['deliveries_per_s']:,}/s, {m['server_us_per_delivery']} us/delivery, "
                    f"{m['cpu']['server_cores']} server cores, redis {m['redis_us_per_message']} us/msg, "
                    f"missing {m['missing']}; rate {r['server_us_per_delivery']} us/delivery, p50/p99 "
                    f"{r['latency_ms'].get('p50')}/{r['latency_ms'].get('p99')} ms, missing {r['missing']}"
                )
            else:
                out(f"  error: {res.get('error')}")
            for note in res.get("notes", []):
                out(f"  note: {note}")
    meta["calibration_ms_end"] = calibrate()
    meta["loadavg_end"] = loadavg()
    meta["wall_s"] = round(time.perf_counter() - started)
    text = report(results, meta)
    target = Path(args.out) if args.out else RESULTS / f"scale-{meta['date']}-{meta['revision']}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    out("")
    out(text)
    out(f"written to {target} (and .json)")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--configs", default=",".join(DEFAULT_CONFIGS), help=f"comma-separated of {', '.join(CONFIGS)}"
    )
    parser.add_argument("--receivers", type=int, default=300)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--per-publisher", type=int, default=150, help="messages per publisher in `max`")
    parser.add_argument("--window", type=int, default=8, help="unacknowledged sends per publisher in `max`")
    parser.add_argument("--rate", type=float, default=20, help="messages per second in `rate`")
    parser.add_argument("--rate-messages", type=int, default=100)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before waiting for idle")
    parser.add_argument("--start-timeout", type=float, default=60)
    parser.add_argument("--phase-timeout", type=float, default=120)
    parser.add_argument("--config-timeout", type=float, default=600, help="one run of one configuration")
    parser.add_argument("--time-limit", type=float, default=3000, help="the whole benchmark")
    parser.add_argument("--keep-logs", help="copy server logs with errors to this directory")
    parser.add_argument("--out", help="markdown path (default bench/results/scale-DATE-SHA.md; .json beside)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("node") is None:
        raise SystemExit("node is needed (the load generator): see bench/README.md")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
