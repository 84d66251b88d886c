"""Micro-benchmark: CPU per ``delivered`` acknowledgement, service called in-process.

    .venv/bin/python -m bench.acks [LABEL]

Run it from two trees (``PYTHONPATH=<worktree>``) to compare commits in one sitting.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from db.migrate import upgrade
from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import Target
from server.chat_factory import build_chat
from server.config import Settings

ACKS = 3000


async def main(label: str) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=Path(tempfile.mkdtemp()), jwt_secret="x" * 40, bcrypt_rounds=4
    )
    chat = build_chat(settings)
    await upgrade(chat.db.engine)
    await chat.start()
    alice = await chat.users.create("alice", "password123")
    bob = await chat.users.create("bob", "password123")
    sender, reader = Actor(alice.id or 0, "alice"), Actor(bob.id or 0, "bob")
    lobby = Target(topic="lobby")
    for n in range(50):
        await chat.messages.send(sender, lobby, f"m{n}")
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(ACKS):
        await chat.delivery.acknowledge(reader, lobby, 1 + n % 50)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    sys.stdout.write(
        f"{label}: {ACKS} acks  {1e6 * cpu / ACKS:.0f} us CPU/ack  {1e6 * wall / ACKS:.0f} us wall/ack\n"
    )
    await chat.stop()
    await chat.db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "acks"))
