"""The signalling cost of calls (PROTOCOL.md section 18): server CPU per ``call:signal`` relayed.

    .venv/bin/python -m bench.calls                          # 6 in one call, 3000 signals of 300 bytes
    .venv/bin/python -m bench.calls --peers 2 --signals 1000 --size 4000   # SDP-sized, one pair

Starts ``parley serve`` (SQLite, a temporary data directory, the bench's high event limits), makes
``--peers`` users members of one private topic and puts them in one call, then has every
participant send its share of ``--signals`` signals, each to the next participant, round the call,
at 45 a second per socket (under the server's 50: the bench measures the relay, not the refusal).
Every signal is acknowledged by the server and must reach its addressee once; the run fails
otherwise. The server process's CPU (user + system, from /proc) is sampled before and after the
signals, and over an idle stretch of the same length first (heartbeats, pings): the figure reported
is the difference per signal, in microseconds, with the raw one beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from bench.client import SioClient
from bench.procs import FAST_BCRYPT, ROOT, ServerProcess, host_facts

PER_SOCKET_RATE = 45.0  # signals a second per socket, under the server's 50


async def register(http: aiohttp.ClientSession, url: str, name: str) -> str:
    async with http.post(f"{url}/api/users", json={"username": name, "password": "bench-password"}) as r:
        assert r.status == 201, await r.text()
        return str((await r.json())["token"])


async def ok(client: SioClient, event: str, data: Any) -> Any:
    answer = await client.call(event, data)
    assert answer.get("ok") is True, (event, answer)
    return answer["data"]


async def sender(client: SioClient, call_id: int, to: str, count: int, data: dict[str, Any]) -> None:
    """``count`` signals to ``to``, paced at ``PER_SOCKET_RATE``, each acknowledged before the next."""
    started = time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n / PER_SOCKET_RATE - time.monotonic()))
        await ok(client, "call:signal", {"call": call_id, "to": to, "data": data})


async def run(peers: int, signals: int, size: int) -> dict[str, Any]:
    server = ServerProcess(extra_env=FAST_BCRYPT, label="calls", source=ROOT)  # this checkout's server
    await server.start()
    clients: list[SioClient] = []
    try:
        async with aiohttp.ClientSession() as http:
            names = [f"peer{n}" for n in range(peers)]
            tokens = [await register(http, server.url, name) for name in names]
            received = [0] * peers
            for index, (name, token) in enumerate(zip(names, tokens, strict=True)):
                client = SioClient(http, server.url, token, name)

                def count(event: str, _payload: Any, _arrived: int, index: int = index) -> None:
                    if event == "call:signal":
                        received[index] += 1

                client.on_event = count
                await client.connect()
                await client.wait_session()
                clients.append(client)
            await ok(clients[0], "topic:create", {"name": "bench-call", "private": True})
            for name in names[1:]:
                await ok(clients[0], "topic:invite", {"topic": "bench-call", "username": name})
            started = await ok(clients[0], "call:start", {"topic": "bench-call", "media": "video"})
            call_id = started["call"]["id"]
            seats = [started["peer"]] + [
                (await ok(c, "call:join", {"call": call_id}))["peer"] for c in clients[1:]
            ]

            share = signals // peers
            total = share * peers
            data = {"type": "candidate", "candidate": "x" * max(0, size - 40), "sdpMid": "0"}
            seconds = share / PER_SOCKET_RATE
            idle_before = server.sample()
            await asyncio.sleep(seconds)
            idle_after = server.sample()
            before = server.sample()
            began = time.monotonic()
            await asyncio.gather(
                *(sender(c, call_id, seats[(i + 1) % peers], share, data) for i, c in enumerate(clients))
            )
            deadline = time.monotonic() + 10
            while sum(received) < total and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            elapsed = time.monotonic() - began
            after = server.sample()
            if sum(received) != total or any(n != share for n in received):
                raise RuntimeError(f"signals lost or misrouted: {received} of {share} each")
    finally:
        for client in clients:
            await client.close()
        errors = server.errors()
        await server.stop()
    busy = after.cpu_s - before.cpu_s
    idle = (idle_after.cpu_s - idle_before.cpu_s) * (elapsed / seconds if seconds else 1.0)
    return {
        "peers": peers,
        "signals": total,
        "bytes_per_signal": len(json.dumps(data)),
        "seconds": round(elapsed, 2),
        "signals_per_s": round(total / elapsed, 1),
        "server_cpu_s": round(busy, 3),
        "server_idle_cpu_s": round(idle, 3),
        "server_cpu_us_per_signal": round(max(0.0, busy - idle) / total * 1e6, 1),
        "server_cpu_us_per_signal_raw": round(busy / total * 1e6, 1),
        "server_errors": errors[:5],
        "host": host_facts(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.calls", description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=6, help="participants of the call (2-6)")
    parser.add_argument("--signals", type=int, default=3000, help="signals relayed in all")
    parser.add_argument(
        "--size", type=int, default=300, help="bytes of JSON per signal (an ICE candidate: ~300)"
    )
    args = parser.parse_args(argv)
    if not 2 <= args.peers <= 6:
        parser.error("--peers is 2 to 6 (PARLEY_CALL_MAX_PEERS)")
    result = asyncio.run(run(args.peers, args.signals, args.size))
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
