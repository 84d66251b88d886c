"""The cost of a node's heartbeats in Redis at scale: ``python -m bench.beats [--users 3333,16666]``.

Every ``ttl / 3`` seconds each node writes its users anew, twice: its presence set
(``redis_presence.RedisRegistry._beat``) and its socket counts (``redis_budgets.RedisBudgets._beat``),
so that what Redis lost or what a failed call left wrong is true again within a beat. With N users on
the node, each beat is O(N) in the node's CPU and in Redis's. This times both beats for each N
(a worker's share of 10,000 and 50,000 sockets on three workers by default): the node's CPU
(``process_time``), the wall time, and Redis's CPU (``INFO cpu``) per beat, the mean of ``--rounds``.
It needs a Redis (``--redis``, default the local one) and uses keys of a channel of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from typing import Any

import redis.asyncio

from server.adapters.cluster.redis_budgets import RedisBudgets
from server.adapters.cluster.redis_presence import RedisRegistry


async def nobody_gone(_user_ids: list[int]) -> None:
    """No node dies here."""


async def redis_cpu(client: Any) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def measure(url: str, users: list[int], rounds: int) -> list[str]:
    channel = f"bench-beats-{secrets.token_hex(4)}"
    presence, budgets = RedisRegistry(url, channel), RedisBudgets(url, channel)
    await presence.start(nobody_gone)
    await budgets.start()
    client = redis.asyncio.Redis.from_url(url)
    lines = ["| users | beat | node CPU ms | wall ms | Redis CPU ms |", "|---:|---|---:|---:|---:|"]
    try:
        for count in users:
            presence._here = set(range(1, count + 1))
            budgets._here = {user: 1 + user % 3 for user in range(1, count + 1)}
            for name, beat in (("presence", presence._beat), ("budgets", budgets._beat)):
                await beat()  # the script loaded, the keys at their size
                redis_before, cpu, wall = await redis_cpu(client), time.process_time(), time.perf_counter()
                for _ in range(rounds):
                    await beat()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                in_redis = await redis_cpu(client) - redis_before
                lines.append(
                    f"| {count:,} | {name} | {cpu / rounds * 1000:.1f} | {wall / rounds * 1000:.1f} "
                    f"| {in_redis / rounds * 1000:.1f} |"
                )
    finally:
        presence._here, budgets._here = set(), {}
        await presence.stop()
        await budgets.stop()
        await client.aclose()
    return lines


def main(argv: list[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.beats", description=summary)
    parser.add_argument("--users", default="3333,16666", help="users on the node, comma-separated")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    users = [int(part) for part in args.users.split(",") if part.strip()]
    sys.stdout.write("\n".join(asyncio.run(measure(args.redis, users, args.rounds))) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
