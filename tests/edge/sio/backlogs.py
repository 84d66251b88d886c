"""A member who went offline while a topic filled up: the set-up of the backlog flow-control tests."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support import LiveServer

KB_BODY = "x" * 1000  # ~1.1-1.2 kB per message as queued


async def fill(sender: Any, topic: str, count: int) -> None:
    """``count`` messages of about 1 kB in ``topic``, numbered by their first word, 100 at a time."""
    for start in range(0, count, 100):
        await asyncio.gather(
            *(
                sender.ok("message:send", {"topic": topic, "body": f"{i} {KB_BODY}"})
                for i in range(start, min(start + 100, count))
            )
        )


async def offline_member(server: LiveServer, backlog: int, topic: str = "big") -> tuple[Any, str]:
    """alice's client and bob's token: bob joined ``topic``, left, and ``backlog`` messages came."""
    alice = await server.user("alice")
    bob_token = await server.register("bob")
    await alice.ok("topic:create", {"name": topic})
    bob = await server.connect("bob", bob_token)
    await bob.ok("topic:subscribe", {"topic": topic})
    await bob.close()
    await fill(alice, topic, backlog)
    return alice, bob_token
