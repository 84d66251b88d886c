"""Micro-benchmark: durable sends through the service, in-process (no sockets).

    .venv/bin/python -m bench.sends                          # 100 concurrent senders, SQLite
    .venv/bin/python -m bench.sends --senders 1 --count 1000 # one sender, closed loop
    .venv/bin/python -m bench.sends --database postgresql+asyncpg://postgres@127.0.0.1:5432/NAME
    .venv/bin/python -m bench.sends --mention --webhook      # what rides along: a mention row, 2 outbox rows
    .venv/bin/python -m bench.sends --link                   # a distinct link in every body

Each sender has its own user and its own topic and sends in a closed loop (the next send
after the previous one returned, i.e. after its commit). Prints stored messages per second
and this process's CPU per send; the server's socket layer is not involved.

``--mention``: the next sender is a member of each sender's topic and every message names them
(a mention row each, the send store's mention step). ``--webhook``: each topic has an outgoing
webhook for ``message`` and ``mention`` (its outbox rows are written with each send; nothing is
delivered: the worker is not started in-process). ``--link``: every body has a distinct link (it
is read at send and stored with the message, its previews queue entry; the previews worker is not started
in-process either, so this is the send path's share alone).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.inproc import started_chat
from server.chat.integrations.schemas import WebhookIn
from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import Target
from server.chat.service import Chat


@dataclass(frozen=True)
class Rides:
    """What rides along with each send."""

    mention: bool = False
    webhook: bool = False
    link: bool = False


async def main(senders: int, count: int, database: str | None, rides: Rides) -> None:
    settings: dict[str, Any] = {"webhook_allow_hosts": ["127.0.0.1"]} if rides.webhook else {}
    async with started_chat(database, default_topics=[], **settings) as chat:
        await _run(chat, senders, count, rides)


async def _run(chat: Chat, senders: int, count: int, rides: Rides) -> None:
    actors = []
    for i in range(senders):
        user = await chat.users.create(f"sender{i}", "password123")
        actor = Actor(user.id or 0, user.username)
        await chat.topics.create(actor, f"t{i}")
        actors.append(actor)
    for i, actor in enumerate(actors):
        if rides.mention:
            await chat.topics.subscribe(actors[(i + 1) % senders], f"t{i}")
        if rides.webhook:
            hook = WebhookIn(url="http://127.0.0.1:9/hook", events=["message", "mention"], secret="s" * 16)
            await chat.webhooks.register(actor, f"t{i}", hook)
    per_sender = count // senders

    async def run(actor: Actor, topic: str, named: str) -> None:
        prefix = f"@{named} " if rides.mention else ""
        for i in range(per_sender):
            link = f" see http://127.0.0.1:9/notes/{actor.id}/{i}" if rides.link else ""
            await chat.messages.send(actor, Target(topic=topic), f"{prefix}m{i}{link}")

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(run(a, f"t{i}", actors[(i + 1) % senders].username) for i, a in enumerate(actors)))
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
    parser.add_argument("--mention", action="store_true", help="every message names a member of its topic")
    parser.add_argument("--webhook", action="store_true", help="every topic has a message+mention webhook")
    parser.add_argument("--link", action="store_true", help="every message has a distinct link")
    args = parser.parse_args()
    asyncio.run(main(args.senders, args.count, args.database, Rides(args.mention, args.webhook, args.link)))
