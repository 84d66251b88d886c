"""What a sign-in costs next to a refresh (PROTOCOL.md section 19): N password logins and N
refreshes of a session's cookie against a real ``parley serve`` (a child process on 127.0.0.1).

    .venv/bin/python -m bench.auth_cost                       # 200 of each, bcrypt at its default (12)
    .venv/bin/python -m bench.auth_cost -n 100 --rounds 10    # PARLEY_BCRYPT_ROUNDS for the server
    .venv/bin/python -m bench.auth_cost --database postgresql+asyncpg://postgres@127.0.0.1:5432/NAME  # empty

One call at a time, over one kept-alive HTTP connection, after a few unmeasured ones. For each
call: the wall time the client waited (request sent to answer read) and the CPU time the server
process spent meanwhile, all its threads (``/proc/<pid>/task/*/schedstat``, nanoseconds: bcrypt
runs off the event loop's thread). A login is ``POST /api/auth/login`` (bcrypt's check of the
password, a new session row, a token, the cookie); a refresh is ``POST /api/auth/refresh`` with
the last cookie only (a read, a compare-and-set turning the cookie over, a token). Prints the
median and p90 of each, in milliseconds, and the bcrypt rounds the server hashed with.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.procs import ServerProcess
from bench.stats import percentile

PASSWORD = "bench-password-1"
COOKIE = "parley_refresh"
DEFAULT_ROUNDS = 12  # server/settings/accounts.py: bcrypt_rounds' default
WARMUP = 5


def server_cpu_ns(pid: int) -> int:
    """CPU time the process has spent, all its live threads, in nanoseconds."""
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended between the listing and the read
    return total


async def measured(
    pid: int, count: int, call: Callable[[], Awaitable[None]]
) -> tuple[list[float], list[float]]:
    """``count`` calls one after another: each one's wall ms and server CPU ms."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(WARMUP):
        await call()
    for _ in range(count):
        cpu = server_cpu_ns(pid)
        started = time.perf_counter()
        await call()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((server_cpu_ns(pid) - cpu) / 1e6)
    return walls, cpus


def line(name: str, walls: list[float], cpus: list[float]) -> str:
    wall, cpu = sorted(walls), sorted(cpus)
    return (
        f"{name:<8} n={len(wall):<5} wall ms: median {percentile(wall, 50):7.2f}"
        f"  p90 {percentile(wall, 90):7.2f}   server CPU ms: median {percentile(cpu, 50):7.2f}"
        f"  p90 {percentile(cpu, 90):7.2f}"
    )


async def main(count: int, rounds: int, database: str | None) -> None:
    env = {"PARLEY_BCRYPT_ROUNDS": str(rounds)}
    if database:
        env["PARLEY_DATABASE_URL"] = database
    server = ServerProcess(env, label="parley serve")
    await server.start(timeout=120.0)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60.0) as http:
            signed = await http.post("/api/users", json={"username": "bench", "password": PASSWORD})
            signed.raise_for_status()
            cookie = {"value": ""}

            async def login() -> None:
                http.cookies.clear()
                answer = await http.post("/api/auth/login", json={"username": "bench", "password": PASSWORD})
                answer.raise_for_status()
                cookie["value"] = answer.cookies[COOKIE]

            async def refresh() -> None:
                http.cookies.clear()
                answer = await http.post(
                    "/api/auth/refresh", headers={"cookie": f"{COOKIE}={cookie['value']}"}
                )
                answer.raise_for_status()
                cookie["value"] = answer.cookies[COOKIE]  # turned over: the next refresh presents it

            logins = await measured(server.pid, count, login)
            refreshes = await measured(server.pid, count, refresh)
    finally:
        errors = server.errors()
        await server.stop()
    store = "PostgreSQL" if database else "SQLite"
    sys.stdout.write(
        f"parley serve, {store}, PARLEY_BCRYPT_ROUNDS={rounds}, one call at a time, {os.cpu_count()} CPUs\n"
    )
    sys.stdout.write(line("login", *logins) + "\n")
    sys.stdout.write(line("refresh", *refreshes) + "\n")
    if errors:
        sys.stderr.write(f"server errors: {len(errors)}\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--count", type=int, default=200, help="calls of each kind (default 200)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"bcrypt rounds (default {DEFAULT_ROUNDS}, as served)",
    )
    parser.add_argument("--database", help="an empty database's URL (default: SQLite in the data directory)")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds, args.database))
