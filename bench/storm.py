"""The reconnect storm: ``python -m bench.storm [--quick]``.

Every client reconnects at once when its server restarts (a crash or a deploy); this measures how
long until all are back and, for Parley, until every one has caught up on what it missed.

Parley: N users (``--clients``, 10,000), one socket each, spread over ``--topics`` (100) public
topics (user t < topics creates topic t, user j subscribes to topic j mod topics, all over REST).
The sockets connect with the stock ``socket.io-client`` and its reconnection on (its defaults:
delay 1 s doubling up to 5 s, randomization 0.5, unlimited attempts). Then every topic's creator
sends ``--backlog`` (20) messages over REST. The clients receive them live but never send
``delivered``, so for the server every one of those messages is still unacknowledged: PROTOCOL.md
section 4, the backlog is every message above the acknowledged ``seq``, sent after ``session`` on
each new connection. So each client truly has 20 undelivered messages whenever the server comes
back, however often it restarts.

Then, for each ``--restarts`` variant (``kill``: SIGKILL, ``term``: SIGTERM and a clean stop), the
server is stopped and started again on the same data directory and port while the clients are
connected. The generators count from the moment it is stopped (``t0``): when each socket is
connected again, when it has all 20 of its topic's messages (each once, in order: duplicates,
missing, out of order counted), ``connect_error``s (all, and those after the new server answered
``/healthz``), clients that gave up (the stock client stops retrying after a server-side
``disconnect`` or a refusal by the server's middleware), sockets that dropped again after coming
back. The new server's peak RSS (``VmHWM``) and CPU since its start are read from /proc.

Node's reference server (``bench/reference/node/server.js``; ``plain`` too on request): the same
clients without users, topics or backlog: the time until all are reconnected.

The load generators are ``bench/reference/node/gen.js`` (``storm_connect``, ``storm_arm``,
``storm_wait``), split over processes of at most ``--clients-per-generator`` sockets, each on its
own loopback source address, as ``bench.compare --connect-curve`` does. Server on core 1,
generators on core 0. Output: ``bench/results/storm-<UTC date>-<commit>[-quick].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import shlex
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.compare import (
    MANY_SOCKETS_ENV,
    NODE_DIR,
    RESULTS,
    SERVER_CORE,
    Fleet,
    ReferenceServer,
    apply_quick,
    fleet,
    fleet_plan,
    git,
    http_session,
    machine_facts,
    out,
    pinned,
    quiet,
    raise_nofile,
    refuse_sizes,
    register,
    rest,
)
from bench.procs import FAST_BCRYPT, ServerProcess, sample, snapshot
from bench.stats import summary

KINDS = ("node", "plain", "parley")
RESTARTS = ("kill", "term")
QUICK = {"clients": 200, "topics": 10}


LISTEN_COUNTERS = ("ListenOverflows", "ListenDrops")


def listen_counters() -> dict[str, int]:
    """The kernel's TcpExt listen-queue counters (``nstat -az TcpExtListenOverflows TcpExtListenDrops``):
    a SYN or a handshake's last ACK dropped because an accept queue was full. They count the whole
    network namespace, so another process's load on the machine shows up too."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError), open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            pairs = zip(names.split()[1:], values.split()[1:], strict=False)
            found = {k: int(v) for k, v in pairs if k in LISTEN_COUNTERS}
    return found


def peak_rss_kb(pid: int) -> int | None:
    """VmHWM: the most resident memory the process has had since it started (the storm's peak)."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


@dataclass
class Restartable:
    """The server under test, stopped and started again on the same port (and data directory)."""

    kind: str
    args: argparse.Namespace
    parley: ServerProcess | None = None
    ref: ReferenceServer | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.parley is not None:
            return self.parley.pid
        assert self.ref is not None
        return self.ref.pid

    async def start(self) -> None:
        if self.kind == "parley":
            if self.parley is None:
                env = {**FAST_BCRYPT, **MANY_SOCKETS_ENV}
                self.parley = ServerProcess(env, "parley", self.args.parley_source, pinned(SERVER_CORE))
                self.parley.preexec_fn = raise_nofile
            await self.parley.start(self.args.start_timeout, data_dir=self.parley.data_dir, port=self.port)
            self.port = self.parley.port
        else:
            self.ref = ReferenceServer(self.kind)
            await self.ref.start(self.args.start_timeout, port=self.port)
            self.port = self.ref.port

    async def halt(self, how: str) -> bool:
        """``kill``: SIGKILL (nothing runs); ``term``: SIGTERM and wait for the clean stop, at most
        ``--stop-grace`` s. True when a clean stop did not finish in time and was SIGKILLed."""
        proc = (
            self.parley.proc if self.parley is not None else self.ref.proc if self.ref is not None else None
        )
        if self.parley is not None:
            if how == "kill":
                self.parley.kill()
            else:
                await self.parley.stop(grace=self.args.stop_grace, keep_dir=True)
        elif self.ref is not None:
            if how == "kill":
                self.ref.kill()
            else:
                await self.ref.stop(grace=self.args.stop_grace)
        return how == "term" and proc is not None and proc.returncode == -signal.SIGKILL

    def errors(self) -> list[str]:
        return self.parley.errors() if self.parley is not None else []

    async def close(self) -> None:
        if self.parley is not None:
            await self.parley.stop()  # removes the data directory
        if self.ref is not None:
            await self.ref.stop()


@contextlib.asynccontextmanager
async def restartable(kind: str, args: argparse.Namespace) -> AsyncIterator[Restartable]:
    server = Restartable(kind, args)
    try:
        await server.start()
        yield server
    finally:
        await server.close()


async def prepare_parley(url: str, clients: int, topics: int) -> tuple[list[str], list[str]]:
    """Users, topics and memberships over REST (not measured): the tokens and each user's topic."""
    prefix = f"st{os.urandom(3).hex()}"
    tokens = await register(url, f"{prefix}u", clients)
    names = [f"{prefix}-t{t}" for t in range(topics)]
    gate = asyncio.Semaphore(16)
    async with http_session() as http:

        async def create(t: int) -> None:
            async with gate:
                await rest(http, "POST", f"{url}/api/topics", tokens[t], {"name": names[t]})

        async def subscribe(j: int) -> None:
            async with gate:
                await rest(http, "POST", f"{url}/api/topics/{names[j % topics]}/subscribe", tokens[j])

        await asyncio.gather(*(create(t) for t in range(topics)))
        await asyncio.gather(*(subscribe(j) for j in range(topics, clients)))
    return tokens, [names[j % topics] for j in range(clients)]


async def fill_backlog(url: str, tokens: list[str], names: list[str], per_topic: int) -> float:
    """Each topic's creator sends ``per_topic`` messages ``storm <t> <k>``, in order; seconds taken."""
    started = time.perf_counter()
    gate = asyncio.Semaphore(32)
    async with http_session() as http:

        async def topic(t: int) -> None:
            for k in range(per_topic):  # one after the other: k order is seq order
                async with gate:
                    body = {"topic": names[t], "body": f"storm {t} {k}"}
                    await rest(http, "POST", f"{url}/api/messages", tokens[t], body)

        await asyncio.gather(*(topic(t) for t in range(len(names))))
    return round(time.perf_counter() - started, 1)


def merge_waits(answers: list[dict[str, Any]], clients: int, expected: int) -> dict[str, Any]:
    """The generators' ``storm_wait`` answers as one result (times in s since the server was stopped)."""
    reconnect = [t for a in answers for t in a["reconnect_ms"]]
    caught_up = [t for a in answers for t in a["caught_up_ms"]]
    reasons: dict[str, int] = {}
    for a in answers:
        for reason, count in a["disconnect_reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    causes: dict[str, int] = {}
    for a in answers:
        for cause, count in a.get("connect_error_causes", {}).items():
            causes[cause] = causes.get(cause, 0) + count
    reconnected = sum(a["reconnected"] for a in answers)
    done = sum(a["caught_up"] for a in answers)
    return {
        "clients": clients,
        "reconnected": reconnected,
        "all_reconnected_s": round(max(reconnect) / 1000, 3) if reconnected == clients else None,
        "reconnect_ms": summary(reconnect),
        "backlog_per_client": expected,
        "caught_up": done if expected else None,
        "all_caught_up_s": round(max(caught_up) / 1000, 3) if expected and done == clients else None,
        "caught_up_ms": summary(caught_up) if expected else None,
        "missing": sum(a["missing"] for a in answers),
        "duplicates": sum(a["duplicates"] for a in answers),
        "out_of_order": sum(a["out_of_order"] for a in answers),
        "connect_errors": sum(a["connect_errors"] for a in answers),
        "connect_errors_after_up": sum(a["connect_errors_after_up"] for a in answers),
        "last_failed_attempt_s": _latest_s([a.get("last_failed_attempt_ms") for a in answers]),
        "first_connect_errors": list(dict.fromkeys(e for a in answers for e in a["first_connect_errors"]))[
            :3
        ],
        "connect_error_causes": dict(sorted(causes.items(), key=lambda kv: -kv[1])[:5]),
        "gave_up": sum(a["gave_up"] for a in answers),
        "disconnected_twice": sum(a["disconnected_twice"] for a in answers),
        "disconnect_reasons": reasons,
        "timed_out": any(a["timed_out"] for a in answers),
    }


def _latest_s(values: list[float | None]) -> float | None:
    """The latest of the generators' times (ms since the stop), in s; None when none has one."""
    known = [v for v in values if v is not None]
    return round(max(known) / 1000, 3) if known else None


async def first_accept(port: int, timeout: float = 120.0) -> float:
    """The time (``time.time``) the port on 127.0.0.1 first took a connection, tried every 5 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.005)
            continue
        at = time.time()
        writer.close()
        return at
    return math.nan


async def restart_once(
    server: Restartable, gens: Fleet, how: str, expected: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Stop the server (``how``) under the connected clients, start it again, wait for all to be back."""
    await gens.call_each("storm_arm", 60, [{"group": "s", "expected": expected}] * len(gens.gens))
    listen_before = listen_counters()
    t0 = time.time()
    forced = await server.halt(how)
    stopped = time.time()
    listening = asyncio.create_task(first_accept(server.port))
    await server.start()
    up = time.time()
    listen_at = await listening
    answers = await gens.call_each(
        "storm_wait",
        args.phase_timeout + 60,
        [
            {
                "group": "s",
                "expected": expected,
                "t0": t0 * 1000,
                "up": up * 1000,
                "timeout_s": args.phase_timeout,
            }
        ]
        * len(gens.gens),
    )
    result = {
        "restart": how,
        "stop_s": round(stopped - t0, 3),
        "stop_needed_sigkill": forced,  # term: the clean stop took longer than --stop-grace
        "up_s": round(up - t0, 3),  # stopped, started and answering /healthz
        "start_s": round(up - stopped, 3),  # from the exec of the new server to /healthz answering
        "listen_s": round(listen_at - t0, 3),  # until its port took a connection (one before: refused)
        **merge_waits(answers, sum(n for _, n in gens.plan), expected),
    }
    listen_after = listen_counters()
    result["listen_overflows"] = {k: listen_after.get(k, 0) - v for k, v in listen_before.items()}
    with contextlib.suppress(OSError):
        result["server_cpu_s_since_start"] = round(sample(server.pid).cpu_s, 2)
    peak = peak_rss_kb(server.pid)
    result["peak_rss_mb"] = round(peak / 1024, 1) if peak else None
    out(
        f"    {server.kind} {how}: {result['reconnected']}/{result['clients']} back, all in "
        f"{result['all_reconnected_s']} s, caught up {result['all_caught_up_s']} s, "
        f"gave up {result['gave_up']}, connect errors {result['connect_errors']}"
    )
    return result


async def storm(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """One server kind: set up, connect everyone, then each restart variant in turn."""
    plan = fleet_plan(args.clients, args.clients_per_generator)
    result: dict[str, Any] = {"generators": [{"address": a, "sockets": n} for a, n in plan]}
    async with restartable(kind, args) as server, fleet(plan) as gens:
        tokens: list[str] | None = None
        topics: list[str] | None = None
        expected = 0
        if kind == "parley":
            started = time.perf_counter()
            tokens, topics = await asyncio.wait_for(
                prepare_parley(server.url, args.clients, args.topics), 3600
            )
            result["setup_s"] = round(time.perf_counter() - started, 1)
            out(f"    {args.clients} users in {args.topics} topics in {result['setup_s']} s")
        per_gen = max(1, math.ceil(args.connect_concurrency / len(plan)))
        answers = await gens.call_each(
            "storm_connect",
            args.phase_timeout + 30,
            [
                {
                    "group": "s",
                    "url": server.url,
                    "mode": "parley" if kind == "parley" else "ref",
                    "n": count,
                    "tokens": tokens[offset : offset + count] if tokens else None,
                    "topics": topics[offset : offset + count] if topics else None,
                    "concurrency": per_gen,
                    "local_address": address,
                    "timeout_s": args.phase_timeout,
                }
                for (address, count), offset in zip(plan, gens.offsets, strict=True)
            ],
        )
        connected = sum(a["connected"] for a in answers)
        result["connect_s"] = round(max(a["wall_ms"] for a in answers) / 1000, 1)
        if connected < args.clients:
            errors = [e for a in answers for e in a["first_errors"]]
            raise RuntimeError(f"only {connected} of {args.clients} connected: {errors[:3]}")
        if kind == "parley":
            assert tokens is not None and topics is not None
            result["backlog_fill_s"] = await fill_backlog(
                server.url, tokens[: args.topics], topics[: args.topics], args.backlog
            )
            expected = args.backlog
        await quiet([server.pid, *gens.pids], args.settle)
        for how in args.restart_list:
            result[how] = await restart_once(server, gens, how, expected, args)
            await quiet([server.pid, *gens.pids], args.settle)
        errors = server.errors()
        if errors:
            result["server_error_lines"] = len(errors)
            result["first_server_error"] = errors[0][:500]
    return result


# --------------------------------------------------------------------------- report

ROWS: list[tuple[str, str]] = [
    # (label, key in a restart's result)
    ("clients back", "reconnected"),
    ("s until all reconnected (from the stop)", "all_reconnected_s"),
    ("s until every backlog delivered (from the stop)", "all_caught_up_s"),
    ("s the stop took", "stop_s"),
    ("clean stop cut short by SIGKILL", "stop_needed_sigkill"),
    ("s until the new server answered /healthz", "up_s"),
    ("s from the new server's exec to /healthz", "start_s"),
    ("s until the new server's port took a connection (from the stop)", "listen_s"),
    ("backlog messages missing", "missing"),
    ("backlog messages duplicated", "duplicates"),
    ("backlog messages out of order", "out_of_order"),
    ("`connect_error`s (all)", "connect_errors"),
    ("`connect_error`s after the server was up", "connect_errors_after_up"),
    ("latest start of an attempt that failed (s from the stop)", "last_failed_attempt_s"),
    ("`connect_error` causes", "connect_error_causes"),
    ("kernel listen-queue overflows, drops (TcpExt, whole machine)", "listen_overflows"),
    ("clients that gave up", "gave_up"),
    ("clients dropped again after coming back", "disconnected_twice"),
    ("server peak RSS MB", "peak_rss_mb"),
    ("server CPU s since its start", "server_cpu_s_since_start"),
]


def storm_table(results: dict[str, Any]) -> str:
    """One column per server and restart; the last row: Parley's catch-up time over Node's reconnect time."""
    columns = [
        (kind, how, results["servers"][kind][how])
        for kind in results["servers"]
        for how in RESTARTS
        if isinstance(results["servers"][kind].get(how), dict)
    ]
    head = ["metric", *[f"{kind} ({how})" for kind, how, _ in columns]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def text(value: Any) -> str:
        if isinstance(value, dict):
            return "; ".join(f"{k}: {v}" for k, v in value.items()).replace("|", "/") or "-"
        return "-" if value is None else str(value)

    for label, key in ROWS:
        lines.append("| " + " | ".join([label, *[text(r.get(key)) for _, _, r in columns]]) + " |")
    ratios = []
    for kind, how, r in columns:
        node = results["servers"].get("node", {}).get(how)
        base = node.get("all_reconnected_s") if isinstance(node, dict) else None
        mine = r.get("all_caught_up_s") or r.get("all_reconnected_s")
        ratios.append("-" if kind == "node" or not base or mine is None else f"{mine / base:.2f}")
    lines.append("| " + " | ".join(["all back and caught up / node's all reconnected", *ratios]) + " |")
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        f"# Reconnect storm ({meta['date']})",
        "",
        f"- command: `{meta['command']}`",
        f"- commit: {meta['commit']}; Parley code: {meta['parley_code']}",
        f"- parameters: {json.dumps(meta['params'])}",
        "",
        "Times are from the moment the server was stopped. The clients are the stock socket.io-client "
        "with its default reconnection; Parley's clients never acknowledge, so each has its backlog "
        "again on every connection.",
        "",
        storm_table(results),
        "",
    ]
    failures = [f"- {kind}: {r['error']}" for kind, r in results["servers"].items() if "error" in r]
    if failures:
        lines += ["Failures:", "", *failures, ""]
    return "\n".join(lines)


def failed(results: dict[str, Any]) -> bool:
    """A run that did not finish, or a client that never came back, is a failed run (exit 1)."""
    for r in results["servers"].values():
        if "error" in r:
            return True
        for how in RESTARTS:
            if isinstance(r.get(how), dict) and (
                r[how]["reconnected"] < r[how]["clients"] or r[how]["timed_out"]
            ):
                return True
    return False


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    doc = __doc__ or ""
    p = argparse.ArgumentParser(
        prog="python -m bench.storm",
        description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split("\n\n", 1)[1],
    )
    p.add_argument("--only", default="node,parley", help="servers: " + ",".join(KINDS))
    p.add_argument(
        "--restarts", default=",".join(RESTARTS), help="kill (SIGKILL), term (SIGTERM): in this order"
    )
    p.add_argument("--clients", type=int, default=10000, help="sockets, each its own user")
    p.add_argument("--topics", type=int, default=100, help="Parley: topics the users are spread over")
    p.add_argument("--backlog", type=int, default=20, help="Parley: messages each client has missed")
    p.add_argument("--clients-per-generator", type=int, default=5000, help="sockets per generator process")
    p.add_argument(
        "--connect-concurrency", type=int, default=100, help="first connects in flight (all generators)"
    )
    p.add_argument(
        "--phase-timeout", type=float, default=300.0, help="seconds for the connect and for each storm"
    )
    p.add_argument("--start-timeout", type=float, default=60.0)
    p.add_argument("--stop-grace", type=float, default=60.0, help="term: seconds before SIGKILL")
    p.add_argument("--settle", type=float, default=1.0)
    p.add_argument("--quick", action="store_true", help=f"a smoke run: {QUICK}")
    p.add_argument("--parley-rev", help="run Parley from this git revision (git archive to a temp dir)")
    p.add_argument(
        "--out", help="results file stem (default bench/results/storm-<UTC date>-<commit>[-quick])"
    )
    args = p.parse_args(argv)
    apply_quick(args, argv, QUICK)
    args.servers = [s.strip() for s in args.only.split(",") if s.strip()]
    args.restart_list = [s.strip() for s in args.restarts.split(",") if s.strip()]
    if not args.servers or set(args.servers) - set(KINDS):
        p.error(f"--only takes {','.join(KINDS)}")
    if not args.restart_list or set(args.restart_list) - set(RESTARTS):
        p.error(f"--restarts takes {','.join(RESTARTS)}")
    if "parley" in args.servers and not 1 <= args.topics <= args.clients:
        p.error("--topics must be between 1 and --clients (every topic's creator is a client)")
    if args.backlog < 1 or args.backlog > 1000:
        p.error("--backlog must be 1-1000 (the server's backlog per topic is 1000)")
    if (why := refuse_sizes([args.clients], args.clients_per_generator)) is not None:
        p.error(why)
    return args


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {0})  # the orchestrator stays off the server's core
    raise_nofile()
    keys = ("clients", "topics", "backlog", "restart_list", "clients_per_generator", "connect_concurrency")
    results: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": shlex.join(["python", "-m", "bench.storm", *sys.argv[1:]]),
            "commit": git("rev-parse", "--short", "HEAD"),
            "parley_code": args.parley_code,
            "machine": machine_facts(),
            "params": {k: getattr(args, k) for k in keys},
        },
        "servers": {},
    }
    started = time.perf_counter()
    for kind in args.servers:
        out(f"  {kind} ...")
        limit = args.phase_timeout * (2 + 2 * len(args.restart_list)) + 3600
        try:
            results["servers"][kind] = await asyncio.wait_for(storm(kind, args), limit)
        except Exception as exc:
            out(f"  {kind} FAILED: {exc!r}"[:600])
            results["servers"][kind] = {"error": repr(exc)[:1000]}
    results["meta"]["duration_s"] = round(time.perf_counter() - started)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    suffix = "-quick" if args.quick else ""
    stem = args.out or str(RESULTS / f"storm-{date}-{git('rev-parse', '--short', 'HEAD')}{suffix}")
    Path(stem).parent.mkdir(parents=True, exist_ok=True)
    exported: Path | None = None
    args.parley_source = None
    args.parley_code = "working tree"
    if args.parley_rev:
        exported = snapshot(args.parley_rev, Path(__file__).resolve().parent.parent)
        args.parley_source = exported
        args.parley_code = f"git {args.parley_rev} = {git('rev-parse', '--short', args.parley_rev)}"
    if not (NODE_DIR / "node_modules" / "socket.io-client").exists():
        import subprocess

        out(f"installing the reference packages: npm ci in {NODE_DIR}")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True)
    try:
        results = asyncio.run(main_async(args))
    except KeyboardInterrupt:
        out("interrupted (the processes this run started were stopped)")
        return 130
    finally:
        if exported is not None:
            shutil.rmtree(exported, ignore_errors=True)
    Path(f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    report = markdown(results)
    Path(f"{stem}.md").write_text(report)
    out()
    out(report)
    out(f"written: {stem}.json, {stem}.md ({results['meta']['duration_s']} s)")
    return 1 if failed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
