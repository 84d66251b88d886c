"""Micro-benchmark: durable sends through the service, in-process (no sockets).

    .venv/bin/python -m bench.sends                          # 100 concurrent senders, SQLite
    .venv/bin/python -m bench.sends --senders 1 --count 1000 # one sender, closed loop
    .venv/bin/python -m bench.sends --database postgresql+asyncpg://postgres@127.0.0.1:5432/NAME

Each sender has its own user and its own topic and sends in a closed loop (the next send
after the previous one returned, i.e. after its commit). Prints stored messages per second
and this process's CPU per send; the server's socket layer is not involved.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from bench.inproc import started_chat
from server.chat.actors import Actor
from server.chat.schemas import Target
from server.chat.service import Chat


async def main(senders: int, count: int, database: str | None) -> None:
    async with started_chat(database, default_topics=[]) as chat:
        await _run(chat, senders, count)


async def _run(chat: Chat, senders: int, count: int) -> None:
    actors = []
    for i in range(senders):
        user = await chat.users.create(f"sender{i}", "password123")
        actor = Actor(user.id or 0, user.username)
        await chat.topics.create(actor, f"t{i}")
        actors.append(actor)
    per_sender = count // senders

    async def run(actor: Actor, topic: str) -> None:
        for i in range(per_sender):
            await chat.messages.send(actor, Target(topic=topic), f"m{i}")

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(run(a, f"t{i}") for i, a in enumerate(actors)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    n = per_sender * senders
    sys.stdout.write(
        f"{n} sends by {senders} senders: {n / wall:.0f}/s, {1e6 * cpu / n:.0f} us CPU/send, "
        f"{1e3 * wall / per_sender:.1f} ms per closed-loop send\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=100)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--database", help="a database URL (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    asyncio.run(main(args.senders, args.count, args.database))
