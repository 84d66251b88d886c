"""One machine, all its workers: ``python -m bench.workers [--sizes 10000,25000,50000]``.

The connect curve of ``bench.compare --connect-curve`` past one process (issue 58, item 1): one
process holds at most ~20,000 sockets here (the open-files hard limit), so 50,000 need several.

parley   ``parley serve --workers N`` (uvicorn's supervisor and N workers on one port), PostgreSQL,
         a Redis of this run's own (a unique channel), ``PARLEY_TRANSPORTS=websocket``
node     ``node bench/reference/node/cluster.js 0 N``: node:cluster's primary and N workers of
         socket.io 4.8, WebSocket only, rooms through ``@socket.io/redis-adapter`` on the same Redis

Each server connects the sizes in turn, adding sockets to the ones already connected (10,000,
then 15,000 more to 25,000, then 25,000 more to 50,000): per step the server's CPU per connect
(every process of the server summed: supervisor or primary, and the workers), the step's wall time
and the total so far, RSS per socket summed over the workers (from their RSS before the first
connect), each worker's descriptors (how the kernel or the primary spread the sockets), and the
server's CPU while it only holds them (``--idle-seconds``: heartbeats, presence, timers, in us per
socket per second). A step's CPU per connect includes what the sockets already held cost during
the step, which grows with their count and the step's length; a second figure takes that idle CPU
out (an estimate: the held count rising linearly over the step). Then with
everyone connected the fan-out: a room of ``--room`` sockets at ``--deliveries`` deliveries/s for
``--fanout-seconds``, its latency p50/p99, missing deliveries and CPU per delivery. The room is the
first sockets of generator 0 (the publisher is there too: one clock), which the server spread over
its workers: a message crosses the workers through Redis. Redis's CPU is reported apart (it is
this run's own ``redis-server``), PostgreSQL's too (the backends of the run's database).

The clients are the stock socket.io-client in several Node processes (``gen.js``), each with its own
loopback source address (127.0.0.2, ...) and at most ``--clients-per-generator`` sockets (one
descriptor each, under the 20,000 limit; one address's ephemeral ports, ~28,000). Nothing is pinned:
the server's workers, the generators and Redis share the machine's cores, as they would in
production. Other processes' CPU over every phase is the noise, reported with each figure.

Parley's users are registered once over REST (not measured) on a server that is then stopped; the
measured server starts fresh on the same database. Every phase has a time limit, and every process
this run starts is stopped by its process group at the end.
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
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from bench.compare import (
    NODE_DIR,
    RESULTS,
    Generator,
    fleet_plan,
    git,
    per_ms,
    postgres_backends_cpu,
    postgres_database,
    quiet,
    raise_nofile,
    register,
)
from bench.outage import OwnRedis
from bench.procs import (
    BENCH_ENV,
    FAST_BCRYPT,
    calibrate,
    host_facts,
    machine_busy,
    parley_command,
    wait_healthy,
)
from bench.procs import sample as proc_sample
from bench.scale import Node as ParleyNode
from bench.scale import cpu_of, descendants
from bench.stats import summary

KINDS = ("node", "parley")
ROOT = NODE_DIR.parents[2]


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- the servers


class NodeCluster:
    """``node cluster.js 0 N`` in its own process group: the port comes on stdout once all N listen."""

    def __init__(self, workers: int, redis_url: str, ping_interval: float | None = None) -> None:
        self.workers, self.redis_url, self.ping_interval = workers, redis_url, ping_interval
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float) -> None:
        env = {**os.environ, "REDIS_URL": self.redis_url, "ADAPTER_KEY": f"bench-{secrets.token_hex(4)}"}
        if self.ping_interval is not None:
            env["PING_INTERVAL_MS"] = str(round(self.ping_interval * 1000))
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "cluster.js"), "0", str(self.workers)],
            cwd=NODE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            preexec_fn=raise_nofile,
            start_new_session=True,  # the primary and its workers: one group, stopped together
        )
        assert self.proc.stdout is not None
        loop = asyncio.get_running_loop()
        line = await asyncio.wait_for(loop.run_in_executor(None, self.proc.stdout.readline), timeout)
        if not line.strip():
            raise RuntimeError(f"cluster.js exited ({self.proc.poll()}) before listening")
        self.port = int(line)
        await wait_healthy(self.url, timeout)
        await quiet(self.pids(), 0.5, limit=20)

    def pids(self) -> list[int]:
        return descendants(self.proc.pid) if self.proc is not None and self.proc.poll() is None else []

    def errors(self) -> list[str]:
        return []  # its stderr is ours: a worker's death is printed there and ends the cluster

    async def stop(self, grace: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        await stop_group(proc, grace)
        if proc.stdout is not None:
            proc.stdout.close()


async def stop_group(proc: subprocess.Popen[Any], grace: float) -> None:
    """SIGTERM the process group we started (its id is the leader's PID), SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def parley_env(redis_url: str, database_url: str) -> dict[str, str]:
    return {
        **BENCH_ENV,
        **FAST_BCRYPT,
        "PARLEY_MAX_CONNECTIONS_PER_USER": "1000000",
        "PARLEY_JWT_SECRET": secrets.token_urlsafe(48),  # the registering server's tokens stay valid
        "PARLEY_DATABASE_URL": database_url,
        "PARLEY_REDIS_URL": redis_url,
        "PARLEY_REDIS_CHANNEL": f"bench-workers-{secrets.token_hex(4)}",
        "PARLEY_TRANSPORTS": "websocket",
        # This checkout's server, not the one the shared venv's editable install points at.
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }


async def parley_users(env: dict[str, str], count: int, args: argparse.Namespace) -> list[str]:
    """Migrate, register two users over REST on a one-process server of the same settings (the first
    owns the workspace), stop it, and copy the second, a member, ``count`` times in SQL as a
    registration writes it: its row (a new name, its own token version), its memberships (the default
    topic) and its name's search words; their tokens signed as the server signs them (``TokenCodec``,
    the run's secret). Registering 50,000 users over REST takes an hour on this shared machine."""
    from server.chat.accounts.security import TokenCodec

    node = ParleyNode(env, 1, "register")
    full = {**os.environ, **env, "PARLEY_DATA_DIR": str(node.data_dir)}
    subprocess.run(
        [*parley_command(), "migrate"], env=full, cwd=node.data_dir, check=True, capture_output=True,
        timeout=120,
    )  # fmt: skip
    prefix = f"w{secrets.token_hex(3)}u"
    try:
        await node.start(args.start_timeout)
        await register(node.url, f"{prefix}x", 2, concurrency=1)
    finally:
        await node.stop()
        node.cleanup()
    started = time.perf_counter()
    db = await asyncpg.connect(env["PARLEY_DATABASE_URL"].replace("+asyncpg", ""))
    try:
        async with db.transaction():
            template = await db.fetchval("SELECT id FROM users WHERE username = $1", f"{prefix}x1")
            rows = await db.fetch(
                """
                INSERT INTO users (username, username_key, password_hash, created_at, token_version,
                    display_name, title, timezone, availability, idle, role, bot)
                SELECT $2 || g, $2 || g, t.password_hash, now(), (random() * 2000000000)::int,
                    t.display_name, t.title, t.timezone, t.availability, t.idle, t.role, t.bot
                FROM users t, generate_series(0, $3 - 1) g WHERE t.id = $1 ORDER BY g
                RETURNING id, token_version
                """,
                template, prefix, count,
            )  # fmt: skip
            ids = [row["id"] for row in rows]
            await db.execute(
                """
                INSERT INTO memberships (topic_id, user_id, role, joined_at, delivered_seq, read_seq,
                    notify_level)
                SELECT m.topic_id, u, m.role, now(), m.delivered_seq, m.read_seq, m.notify_level
                FROM memberships m, unnest($2::int[]) u WHERE m.user_id = $1
                """,
                template, ids,
            )  # fmt: skip
            await db.execute(
                "INSERT INTO user_words (word, user_id) SELECT u.username_key, u.id FROM users u "
                "WHERE u.id = ANY($1::int[])",
                ids,
            )
    finally:
        await db.close()
    codec = TokenCodec(env["PARLEY_JWT_SECRET"], 86_400)
    tokens = [codec.issue(row["id"], row["token_version"])[0] for row in rows]
    out(f"    {count} users copied in SQL and their tokens signed in {time.perf_counter() - started:.1f} s")
    return tokens


# --------------------------------------------------------------------------- measuring


class Window:
    """CPU of the server's processes, the generators, Redis, PostgreSQL and the rest over one phase."""

    def __init__(self, server: list[int], gens: list[int], redis_pid: int, pg_url: str) -> None:
        self.server, self.gens, self.redis_pid, self.pg_url = server, gens, redis_pid, pg_url
        self.s0, self.g0, self.r0 = cpu_of(server), cpu_of(gens), cpu_of([redis_pid])
        self.pg0 = postgres_backends_cpu(pg_url) if pg_url else {}
        self.m0, self.w0 = machine_busy(), time.perf_counter()

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.w0
        s1, g1, r1 = cpu_of(self.server), cpu_of(self.gens), cpu_of([self.redis_pid])
        pg1 = postgres_backends_cpu(self.pg_url) if self.pg_url else {}
        m1 = machine_busy()
        server = sum(s1[p] - self.s0[p] for p in s1 if p in self.s0)
        gens = sum(g1[p] - self.g0[p] for p in g1 if p in self.g0)
        redis = sum(r1[p] - self.r0[p] for p in r1 if p in self.r0)
        pg = sum(cpu - self.pg0.get(pid, 0.0) for pid, cpu in pg1.items())
        other = max(0.0, (m1 - self.m0) - server - gens - redis - pg)
        return {
            "wall_s": round(wall, 3),
            "server_cpu_s": round(server, 3),
            "server_cores": round(server / wall, 2),
            "server_cpu_s_per_process": {str(p): round(s1[p] - self.s0[p], 3) for p in s1 if p in self.s0},
            "generator_cores": round(gens / wall, 2),
            "redis_cpu_s": round(redis, 3),
            "postgres_cpu_s": round(pg, 3),
            # Everything else on the machine meanwhile (this orchestrator, other people's work): the noise.
            "other_processes_cores": round(other / wall, 2),
        }


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += proc_sample(pid).rss_kb
    return total


def helper(pid: int) -> bool:
    """multiprocessing's resource tracker, which uvicorn's supervisor starts beside the workers."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def descriptors(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def shares(size: int, plan: list[tuple[str, int]]) -> list[int]:
    """How many of ``size`` sockets each generator holds: the plan's proportions, as even as possible."""
    total = sum(count for _, count in plan)
    base = [size * count // total for _, count in plan]
    for i in range(size - sum(base)):
        base[i % len(base)] += 1
    return base


def slice_of(tokens: list[str] | None, start: int, stop: int) -> list[str] | None:
    return tokens[start:stop] if tokens is not None else None


# --------------------------------------------------------------------------- one server's curve


@contextlib.asynccontextmanager
async def generators(plan: list[tuple[str, int]]) -> AsyncIterator[list[Generator]]:
    gens = [Generator(core=None) for _ in plan]  # unpinned: the machine's cores are everyone's
    try:
        await asyncio.gather(*(gen.start() for gen in gens))
        yield gens
    finally:
        await asyncio.gather(*(gen.stop() for gen in gens), return_exceptions=True)


async def curve(kind: str, args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Every size in turn on one server of ``kind``, the sockets of a size kept for the next; into
    ``result`` as it goes (what was measured stays when a later step fails)."""
    sizes, top = args.size_list, max(args.size_list)
    plan = fleet_plan(top, args.clients_per_generator)
    result.update({"workers": args.workers, "generators": len(plan), "points": {}})
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    own_redis = OwnRedis(folder)
    await own_redis.start()
    assert own_redis.proc is not None
    try:
        async with contextlib.AsyncExitStack() as stack:
            tokens: list[str] | None = None
            pg_url = ""
            server: ParleyNode | NodeCluster
            if kind == "parley":
                pg_url = await stack.enter_async_context(postgres_database())
                env = parley_env(own_redis.url, pg_url)
                if args.ping_interval is not None:
                    env["PARLEY_PING_INTERVAL"] = str(args.ping_interval)
                tokens = await parley_users(env, top + 1, args)  # + the publisher
                server = ParleyNode(env, args.workers, "parley")
            else:
                server = NodeCluster(args.workers, own_redis.url, args.ping_interval)
            gens = await stack.enter_async_context(generators(plan))
            try:
                await asyncio.wait_for(server.start(args.start_timeout), args.start_timeout * 3)
                await measure(
                    kind, server, gens, plan, sizes, tokens, own_redis.proc.pid, pg_url, args, result
                )
            finally:
                await server.stop()  # before the generators: a server does not spend minutes closing sockets
                errors = server.errors()
                if errors:
                    result["notes"] = [f"{len(errors)} error lines in the log; first: {errors[0][:300]}"]
                if isinstance(server, ParleyNode):
                    if args.keep_logs and server.log_path.exists():
                        Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(
                            server.log_path, Path(args.keep_logs) / f"parley-{int(time.time())}.log"
                        )
                    server.cleanup()
    finally:
        own_redis.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def measure(
    kind: str,
    server: ParleyNode | NodeCluster,
    gens: list[Generator],
    plan: list[tuple[str, int]],
    sizes: list[int],
    tokens: list[str] | None,
    redis_pid: int,
    pg_url: str,
    args: argparse.Namespace,
    result: dict[str, Any],
) -> None:
    mode = "parley" if kind == "parley" else "ref"
    limit = args.phase_timeout
    offsets = [sum(count for _, count in plan[:i]) for i in range(len(plan))]
    client_tokens = tokens[:-1] if tokens else None
    root = server.pids()[0]
    workers = [pid for pid in server.pids() if pid != root and not helper(pid)]
    result["worker_pids"] = workers

    def everyone() -> list[int]:
        return [*server.pids(), *(gen.pid for gen in gens)]

    await gens[0].call(
        "connect", 60, group="warm", url=server.url, mode=mode, n=5, tokens=client_tokens, concurrency=5,
        transports=["websocket"], timeout_s=30,
    )  # fmt: skip
    await gens[0].call("close", 30, group="warm")
    await quiet(everyone(), args.settle)
    rss0 = rss_kb(workers)
    result["rss_kb_workers_idle"] = rss0
    held = [0] * len(plan)  # sockets asked of each generator so far
    holding = [0] * len(plan)  # and connected
    wall_total = cpu_total = 0.0
    before = 0  # sockets held before the step
    room_ready = False
    room = f"room-{secrets.token_hex(3)}"
    for size in sizes:
        want = shares(size, plan)
        if want[0] < args.room and not room_ready:
            raise RuntimeError(f"{size} sockets leave generator 0 fewer than --room {args.room}")
        per_gen = max(1, args.connect_concurrency // len(plan))
        window = Window(server.pids(), [gen.pid for gen in gens], redis_pid, pg_url)
        step = [i for i in range(len(gens)) if want[i] > held[i]]

        answers = await asyncio.gather(
            *(
                gens[i].call(
                    "connect",
                    limit + 30,
                    group="c",
                    url=server.url,
                    mode=mode,
                    n=want[i] - held[i],
                    tokens=slice_of(client_tokens, offsets[i] + held[i], offsets[i] + want[i]),
                    concurrency=per_gen,
                    transports=["websocket"],
                    local_address=plan[i][0],
                    raw=True,
                    timeout_s=limit,
                )
                for i in step
            )
        )
        cpu = window.stop()
        held = want
        for i, answer in zip(step, answers, strict=True):
            holding[i] = answer["group_size"]  # every socket it holds now, these and the earlier
        connected = sum(holding)
        new = sum(a["connected"] for a in answers)
        step_wall = max(a["wall_ms"] for a in answers) / 1000
        wall_total += step_wall
        cpu_total += cpu["server_cpu_s"]
        await quiet(everyone(), args.settle * 2)
        rss_n = rss_kb(workers)
        idle = await holding_cost(
            server.pids(), [gen.pid for gen in gens], redis_pid, connected, args.idle_seconds
        )
        if args.ping_interval is not None and args.ping_interval <= args.idle_seconds:  # a whole round
            idle["us_per_ping_round"] = round(idle["us_per_socket_s"] * args.ping_interval, 1)
        held_cpu_s = held_during(idle["us_per_socket_s"], before, connected, step_wall)
        errors = [e for a in answers for e in a["first_errors"]]
        point: dict[str, Any] = {
            "sockets": size,
            "new_sockets": new,
            "connected": connected,
            "failed": sum(a["failed"] for a in answers),
            "first_errors": list(dict.fromkeys(errors))[:3],
            "step_wall_s": round(step_wall, 3),
            "wall_s": round(wall_total, 3),
            "session_ms": summary([t for a in answers for t in a["times_ms"]]),
            "cpu_ms_per_connect": per_ms(cpu["server_cpu_s"], new),
            "cpu_ms_per_connect_so_far": per_ms(cpu_total, connected),
            "cpu_ms_per_connect_net": per_ms(max(cpu["server_cpu_s"] - held_cpu_s, 0.0), new),
            "idle": idle,
            "redis_ms_per_connect": per_ms(cpu["redis_cpu_s"], new),
            "postgres_ms_per_connect": per_ms(cpu["postgres_cpu_s"], new) if pg_url else None,
            "rss_kb_workers": rss_n,
            "rss_kb_per_socket": round((rss_n - rss0) / connected, 1) if connected else None,
            "rss_kb_root": rss_kb([root]),
            "descriptors_per_worker": [descriptors(pid) for pid in workers],
            "cpu": cpu,
        }
        result["points"][str(size)] = point
        before = connected
        args.save()  # an interrupted or timed-out run keeps every point it measured
        gone = [pid for pid in workers if pid not in server.pids()]
        if gone:  # e.g. uvicorn's supervisor killed a worker that missed its health check
            point["workers_gone"] = gone
        out(
            f"    {kind} {size}: {connected} held, +{new} in {step_wall:.1f} s, "
            f"{point['cpu_ms_per_connect']} ms CPU per connect, {point['rss_kb_per_socket']} KB per socket, "
            f"session p50/p99 {point['session_ms'].get('p50')}/{point['session_ms'].get('p99')} ms, "
            f"fds per worker {point['descriptors_per_worker']}, "
            f"other processes {cpu['other_processes_cores']} cores"
        )
        if point["failed"]:
            point["error"] = f"{point['failed']} did not connect: {point['first_errors']}"
            return
        if not room_ready:
            await gens[0].call("subgroup", 30, group="c", name="room", count=args.room)
            await gens[0].call(
                "connect", 60, group="pub", url=server.url, mode=mode, n=1,
                tokens=[tokens[-1]] if tokens else None, concurrency=1, transports=["websocket"],
                local_address=plan[0][0], timeout_s=30,
            )  # fmt: skip
            if kind == "parley":
                await gens[0].call("create_topics", 60, group="pub", prefix=room, count=1)
                room = f"{room}-0"
            else:
                await gens[0].call("join", 60, group="pub", room=room, mode=mode)
            joined = await gens[0].call(
                "join", limit + 30, group="room", room=room, mode=mode, concurrency=10, timeout_s=limit
            )
            if joined["failed"]:
                point["error"] = f"join failed: {joined['first_error']}"
                return
            room_ready = True
        point["fanout"] = await fanout(
            kind, server, gens, redis_pid, pg_url, room, mode, args, everyone, idle["cores"]
        )
        args.save()


def held_during(us_per_socket_s: float, before: int, after: int, seconds: float) -> float:
    """CPU seconds the sockets held cost over a step of ``seconds`` in which their count rose from
    ``before`` to ``after`` (about linearly): a step's CPU per connect counts it, and it grows with
    the count held and the step's length. Taken out, what is left is the connects' own."""
    return us_per_socket_s * 1e-6 * (before + after) / 2 * seconds


async def holding_cost(
    server: list[int], gens: list[int], redis_pid: int, held: int, seconds: float
) -> dict[str, float]:
    """The server's CPU while it only holds ``held`` sockets (heartbeats, presence, timers) for
    ``seconds``: in cores, and in microseconds per socket per second."""
    window = Window(server, gens, redis_pid, "")
    await asyncio.sleep(seconds)  # the measurement itself: nothing runs meanwhile
    cpu = window.stop()["server_cpu_s"]
    return {
        "seconds": seconds,
        "cores": round(cpu / seconds, 3),
        "us_per_socket_s": round(cpu / seconds / held * 1e6, 3) if held else 0.0,
    }


async def fanout(
    kind: str,
    server: ParleyNode | NodeCluster,
    gens: list[Generator],
    redis_pid: int,
    pg_url: str,
    room: str,
    mode: str,
    args: argparse.Namespace,
    everyone: Any,
    idle_cores: float,
) -> dict[str, Any]:
    """The room's fan-out; its CPU per delivery also with the held sockets' idle CPU (``idle_cores``,
    measured just before) taken out. That second figure is right only when the idle window and the
    fan-out's hold the same heartbeat: with a short ``--ping-interval`` (a round per socket in each),
    or one longer than the run (none in either). With the servers' 25 s, each socket's PING falls 25 s
    after its connect, so which window holds how many depends on how long the connects took."""
    rate = args.deliveries / args.room
    messages = max(1, round(rate * args.fanout_seconds))
    await quiet(everyone(), args.settle)
    window = Window(server.pids(), [gen.pid for gen in gens], redis_pid, pg_url)
    answer = await gens[0].call(
        "fanout", args.phase_timeout + 60, group="room", publisher_group="pub", room=room, mode=mode,
        rate=rate, messages=messages, body_size=64, timeout_s=args.phase_timeout,
    )  # fmt: skip
    cpu = window.stop()
    held_cpu_s = idle_cores * cpu["wall_s"]
    latency = answer["latency_ms"]
    out(f"    {kind}: fan-out p50 {latency.get('p50')} ms, p99 {latency.get('p99')} ms")
    deliveries = answer["deliveries"] + answer["publisher_self_deliveries"]
    return {
        "room": args.room,
        "messages": answer["messages"],
        "rate_messages_per_s": round(rate, 3),
        "deliveries_per_s": args.deliveries,
        "deliveries": answer["deliveries"],
        "missing": answer["expected"] - answer["deliveries"],
        "out_of_order": answer["out_of_order"],
        "send_errors": answer["send_errors"],
        "timed_out": answer["timed_out"],
        "short": answer.get("short", []),  # recipients that missed a delivery: index, sid, how many it got
        "latency_ms": answer["latency_ms"],
        "cpu_ms_per_delivery": per_ms(cpu["server_cpu_s"], deliveries),
        "cpu_ms_per_delivery_net": per_ms(max(cpu["server_cpu_s"] - held_cpu_s, 0.0), deliveries),
        "redis_ms_per_message": per_ms(cpu["redis_cpu_s"], answer["messages"]),
        "cpu": cpu,
    }


# --------------------------------------------------------------------------- the report

METRICS: list[tuple[str, tuple[str, ...], bool]] = [
    # (label, path in a point, a ratio to Node means something)
    ("server CPU ms per connect (this step's connects)", ("cpu_ms_per_connect",), True),
    ("server CPU ms per connect (all so far)", ("cpu_ms_per_connect_so_far",), True),
    (
        "server CPU ms per connect, the held sockets' idle CPU taken out (estimate)",
        ("cpu_ms_per_connect_net",),
        True,
    ),
    ("server CPU us per held socket per second, idle", ("idle", "us_per_socket_s"), True),
    ("idle CPU us per socket per PING round (with --ping-interval)", ("idle", "us_per_ping_round"), True),
    ("wall s until all connected (steps summed)", ("wall_s",), True),
    ("wall s of this step", ("step_wall_s",), True),
    ("connect to `session` p99 ms", ("session_ms", "p99"), True),
    ("RSS KB per socket, workers summed", ("rss_kb_per_socket",), True),
    ("fan-out p50 ms", ("fanout", "latency_ms", "p50"), True),
    ("fan-out p99 ms", ("fanout", "latency_ms", "p99"), True),
    ("server CPU ms per fan-out delivery", ("fanout", "cpu_ms_per_delivery"), True),
    (
        "server CPU ms per fan-out delivery, the idle CPU taken out (see --ping-interval)",
        ("fanout", "cpu_ms_per_delivery_net"),
        True,
    ),
    ("fan-out deliveries missing", ("fanout", "missing"), False),
    ("clients that did not connect", ("failed",), False),
    ("Redis CPU ms per connect", ("redis_ms_per_connect",), False),
    ("Redis CPU ms per fan-out message", ("fanout", "redis_ms_per_message"), False),
    ("PostgreSQL CPU ms per connect", ("postgres_ms_per_connect",), False),
    ("other processes' cores while connecting (noise)", ("cpu", "other_processes_cores"), False),
    ("other processes' cores in the fan-out (noise)", ("fanout", "cpu", "other_processes_cores"), False),
]


def dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(results: dict[str, Any]) -> str:
    kinds = [k for k in KINDS if k in results["servers"]]
    ratio = "parley" in kinds and "node" in kinds
    head = ["sockets", "metric", *kinds, *(["parley/node"] if ratio else [])]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size in results["meta"]["sizes"]:
        for label, path, meaningful in METRICS:
            values = {k: dig(results["servers"][k].get("points", {}).get(str(size)), path) for k in kinds}
            if all(v is None for v in values.values()):
                continue
            cells = [f"{size:,}", label, *(fmt(values[k]) for k in kinds)]
            if ratio:
                a, b = values["parley"], values["node"]
                ok = meaningful and isinstance(a, int | float) and isinstance(b, int | float) and b
                cells.append(f"{a / b:.2f}" if ok else "")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def spread(results: dict[str, Any]) -> str:
    """Each worker's descriptors at each size: how evenly the sockets went."""
    lines = []
    for kind in KINDS:
        points = results["servers"].get(kind, {}).get("points", {})
        for size, point in points.items():
            lines.append(f"- {kind} at {int(size):,}: {point.get('descriptors_per_worker')}")
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    errors = [
        f"- {kind}: {server['error']}" for kind, server in results["servers"].items() if "error" in server
    ] + [
        f"- {kind} at {size}: {point['error']}"
        for kind, server in results["servers"].items()
        for size, point in server.get("points", {}).items()
        if "error" in point
    ]
    notes = [f"- {kind}: {note}" for kind, s in results["servers"].items() for note in s.get("notes", [])]
    return "\n".join(
        [
            f"# Sockets across workers: Parley `--workers {meta['workers']}` and Node's cluster",
            "",
            f"Run {meta['date']}.",
            "",
            f"Command: `{meta['command']}` (commit {meta['commit']}, {meta['duration_s']} s).",
            f"Machine: {meta['machine']}.",
            f"`uptime` before: {meta['uptime_before']}; after: {meta['uptime_after']}.",
            "Calibration (ms of a fixed Python loop, lower is faster): "
            f"{meta['calibration_ms_start']} before, "
            f"{meta['calibration_ms_end']} after.",
            "",
            "How it is measured: `bench/workers.py`'s docstring. The sizes are steps on one server (sockets",
            "added to those held); CPU is every process of the server (supervisor/primary and workers);",
            "RSS per socket is the workers' RSS summed, from before the first connect; Redis and PostgreSQL",
            "apart. Other processes' cores (other sessions' work on this shared 2-core machine): the noise.",
            "",
            table(results),
            "",
            "Descriptors per worker (sockets and a few files: the spread):",
            "",
            spread(results),
            "",
            *(["Errors:", "", *errors, ""] if errors else []),
            *(["Notes:", "", *notes, ""] if notes else []),
        ]
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    doc = __doc__ or ""
    p = argparse.ArgumentParser(
        prog="python -m bench.workers",
        description=doc.split("\n\n")[0],
        epilog=doc.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--sizes", default="10000,25000,50000", help="socket counts, ascending (steps)")
    p.add_argument("--only", default=",".join(KINDS), help="servers: node,parley")
    p.add_argument("--workers", type=int, default=3, help="worker processes of each server")
    p.add_argument("--clients-per-generator", type=int, default=10000, help="sockets per generator process")
    p.add_argument("--connect-concurrency", type=int, default=100, help="connects in flight in all")
    p.add_argument("--room", type=int, default=1000, help="fan-out room (sockets of generator 0)")
    p.add_argument("--deliveries", type=float, default=5000.0, help="fan-out deliveries/s in all")
    p.add_argument("--fanout-seconds", type=float, default=10.0)
    p.add_argument("--phase-timeout", type=float, default=240.0, help="seconds for one measured phase")
    p.add_argument("--server-timeout", type=float, default=1500.0, help="seconds for one server's curve")
    p.add_argument("--start-timeout", type=float, default=180.0)
    p.add_argument("--settle", type=float, default=1.0, help="seconds of quiet before RSS and between phases")
    p.add_argument(
        "--idle-seconds", type=float, default=5.0, help="seconds the held sockets' idle CPU is measured"
    )
    p.add_argument(
        "--ping-interval",
        type=float,
        help="seconds between the servers' heartbeat PINGs (default theirs, 25): a short one makes every"
        " window hold one PING round per socket, so its cost per round can be read off the idle CPU; one"
        " longer than the run keeps the heartbeat out of every window",
    )
    p.add_argument("--from-json", metavar="FILE", help="only write FILE's report (.md beside it) again")
    p.add_argument("--keep-logs", metavar="DIR", help="copy Parley's server log there")
    p.add_argument("--out", help="results file stem (default bench/results/workers-curve-<UTC date>)")
    args = p.parse_args(argv)
    try:
        args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes takes socket counts: {args.sizes!r}")
    if not args.size_list or args.size_list != sorted(set(args.size_list)) or args.size_list[0] < 1:
        p.error("--sizes: positive and ascending")
    args.servers = [s.strip() for s in args.only.split(",") if s.strip()]
    if set(args.servers) - set(KINDS):
        p.error(f"unknown servers: {set(args.servers) - set(KINDS)}")
    if not 1 <= args.clients_per_generator <= 18_000:
        p.error("--clients-per-generator: 1-18,000 (a process's 20,000 descriptors, one address's ports)")
    if args.ping_interval is not None and not 0.5 <= args.ping_interval <= 3600:
        p.error("--ping-interval: 0.5-3,600 seconds")
    if args.workers < 1 or args.room < 1 or args.deliveries <= 0:
        p.error("--workers, --room and --deliveries must be positive")
    return args


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    raise_nofile()
    uptime = Path("/proc/loadavg").read_text().split()[:3]
    results: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": shlex.join(["python", "-m", "bench.workers", *sys.argv[1:]]),
            "commit": git("rev-parse", "--short", "HEAD"),
            "machine": host_facts(),
            "sizes": args.size_list,
            "workers": args.workers,
            "params": {
                k: getattr(args, k)
                for k in (
                    "clients_per_generator",
                    "connect_concurrency",
                    "room",
                    "deliveries",
                    "fanout_seconds",
                    "ping_interval",
                )
            },
            "uptime_before": "load average " + " ".join(uptime),
            "calibration_ms_start": calibrate(),
        },
        "servers": {},
    }
    started = time.perf_counter()
    args.save = lambda: Path(f"{args.stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    for kind in args.servers:
        out(f"{kind}: {args.workers} workers, sizes {args.size_list}")
        result: dict[str, Any] = {}
        results["servers"][kind] = result
        try:
            await asyncio.wait_for(curve(kind, args, result), args.server_timeout)
        except Exception as exc:  # one server's failure is a result; the other still runs
            out(f"  {kind} FAILED: {exc!r}"[:600])
            result["error"] = repr(exc)[:1000]
        args.save()
    results["meta"]["uptime_after"] = "load average " + " ".join(
        Path("/proc/loadavg").read_text().split()[:3]
    )
    results["meta"]["calibration_ms_end"] = calibrate()
    results["meta"]["duration_s"] = round(time.perf_counter() - started)
    return results


def report(results: dict[str, Any], stem: str) -> None:
    meta = results["meta"]
    meta.setdefault("uptime_after", "(the run was interrupted)")
    meta.setdefault("calibration_ms_end", None)
    meta.setdefault("duration_s", None)
    text = markdown(results)
    Path(f"{stem}.md").write_text(text + "\n")
    out()
    out(text)
    out(f"written: {stem}.json, {stem}.md")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:  # an interrupted run's points, saved as it went
        report(json.loads(Path(args.from_json).read_text()), args.from_json.removesuffix(".json"))
        return 0
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    args.stem = args.out or str(RESULTS / f"workers-curve-{date}")
    Path(args.stem).parent.mkdir(parents=True, exist_ok=True)
    if not (NODE_DIR / "node_modules" / "@socket.io" / "redis-adapter").exists():
        out(f"installing the reference packages: npm ci in {NODE_DIR}")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True)
    try:
        results = asyncio.run(main_async(args))
    except KeyboardInterrupt:
        out("interrupted (the processes this run started were stopped)")
        return 130
    Path(f"{args.stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    report(results, args.stem)
    failed = any(
        "error" in server or any("error" in p for p in server.get("points", {}).values())
        for server in results["servers"].values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
