"""Micro-benchmark: CPU per stored message, service called in-process (no sockets).

    .venv/bin/python -m bench.sends

Shows the cost of the write path alone: about 17 aiosqlite thread round trips per send.
"""

from __future__ import annotations

import asyncio
import pathlib
import sys
import tempfile
import time

from db.migrate import upgrade
from server.app import build_chat
from server.chat.schemas import Target
from server.chat.users import Actor
from server.config import Settings


async def main():
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=pathlib.Path(tempfile.mkdtemp()), jwt_secret="x" * 40, bcrypt_rounds=4
    )
    chat = build_chat(settings)
    await upgrade(chat.db.engine)
    await chat.start()
    u = await chat.users.create("alice", "password123")
    a = Actor(u.id or 0, "alice")
    n = 1000
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(n):
        await chat.messages.send(a, Target(topic="lobby"), f"m{i}")
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    sys.stdout.write(f"{n} sends  {1e6 * cpu / n:.0f} us CPU/send  {1e6 * wall / n:.0f} us wall/send\n")
    await chat.stop()
    await chat.db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
