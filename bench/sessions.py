"""Micro-benchmark: the chat's own work per connect, in-process (no sockets, no Socket.IO).

    .venv/bin/python -m bench.sessions                      # 10,000 users in the default topic, SQLite
    .venv/bin/python -m bench.sessions --users 1000 --slice 250
    .venv/bin/python -m bench.sessions --users 1000 --reconnect   # then all close and open again
    .venv/bin/python -m bench.sessions --database postgresql+asyncpg://postgres@127.0.0.1:5432/NAME  # empty

Every transport's connect calls the same service (``server.chat.connections.sessions``): check the token
(its signature, then the user's token version), read the user's memberships, count the user
online and tell the partners, then read the backlog. This runs exactly that for ``--users``
users, one after another, with ``--concurrency`` opens in flight (as ``bench.compare``'s
connect), and keeps every session open, so the last slice opens with all the others online.
It prints this process's CPU per open (the reader thread's included) for each ``--slice`` of
opens: what Parley adds to any connect on top of the transport, and whether it grows.
``--reconnect`` then closes every session and opens them all again with the same tokens, as a
reconnect storm without a restart does: the users and their tokens are remembered by then
(``KnownUsers``, ``token_cache``), so that pass shows the connect's work without the first checks.

Issue 25 compares Parley's CPU per connect with Node's socket.io reference server, which checks
no token and reads nothing: the stack's floor (``bench/reference/floor_asgi.py``) plus this
figure is the least a Parley connect can cost on any Socket.IO layer.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from bench.inproc import started_chat
from server.chat.connections.sessions import Session
from server.chat.service import Chat
from server.collector import tune_collector

FIXED_HASH = "$2b$04$" + "a" * 53  # no password opens it: the accounts are only for tokens


async def main(users: int, concurrency: int, slice_size: int, database: str | None, reconnect: bool) -> None:
    async with started_chat(database, max_connections_per_user=1_000_000) as chat:
        await _run(chat, users, concurrency, slice_size, reconnect)


async def _run(chat: Chat, users: int, concurrency: int, slice_size: int, reconnect: bool) -> None:
    tokens = []
    for i in range(users):
        user = await chat.users.add_account(f"user{i}", FIXED_HASH)
        await chat.topics.join(user.id, chat.default_topics)
        tokens.append(chat.users.tokens.issue(user.id, user.token_version)[0])
    tune_collector()  # as the server does once started (``server/collector.py``)
    sessions: list[Session] = []

    async def connect(token: str) -> None:
        session = await chat.sessions.open(token)
        await chat.sessions.backlog(session)
        sessions.append(session)

    sys.stdout.write(f"{users} users, {concurrency} opens in flight; CPU per open (us) by slice:\n")
    await _open_all(tokens, connect, concurrency, slice_size)
    if reconnect:
        for session in sessions:
            await chat.sessions.close(session.actor, session.pid)
        sessions.clear()
        sys.stdout.write("every session closed; opened again with the same tokens:\n")
        await _open_all(tokens, connect, concurrency, slice_size)
    online = sum(chat.sessions.connections(session.actor.id) for session in sessions)
    sys.stdout.write(f"{online} sessions open at the end\n")
    for session in sessions:
        await chat.sessions.close(session.actor, session.pid)


async def _open_all(
    tokens: list[str], connect: Callable[[str], Awaitable[None]], concurrency: int, slice_size: int
) -> None:
    users = len(tokens)
    for start in range(0, users, slice_size):
        batch = tokens[start : start + slice_size]
        cpu0, t0 = time.process_time(), time.perf_counter()
        for at in range(0, len(batch), concurrency):
            await asyncio.gather(*(connect(token) for token in batch[at : at + concurrency]))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        sys.stdout.write(
            f"  opens {start + 1:>6}-{start + len(batch):<6} {1e6 * cpu / len(batch):7.1f} us CPU/open, "
            f"{len(batch) / wall:7.0f} opens/s\n"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--slice", type=int, default=1_000, dest="slice_size")
    parser.add_argument("--database", help="a database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--reconnect", action="store_true", help="then close all and open them again")
    args = parser.parse_args()
    asyncio.run(main(args.users, args.concurrency, args.slice_size, args.database, args.reconnect))
