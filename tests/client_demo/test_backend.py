"""``client_demo/backend.py``, the README's ten-line backend, run as a backend would run it: it
publishes into a topic where a member is connected, then reads who is online there."""

from __future__ import annotations

import asyncio
import sys

from tests.client_demo.demo import ROOT, demo_env
from tests.support import LiveServer


async def test_the_backend_publishes_and_reads_who_is_online(live_server: LiveServer) -> None:
    made = await live_server.chat.server_keys.create("deploys")
    alice = await live_server.user("alice")
    await alice.ok("topic:create", {"name": "den"})
    env = demo_env(PARLEY_URL=live_server.url, PARLEY_SERVER_KEY=made.key)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client_demo.backend", "den", "deploy 42 done",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines() == ["published #1 in den as deploys", "1 online in den: alice"]
    message = await alice.next("message")  # a member's socket hears it as any message
    assert (message["sender"], message["body"], message["seq"]) == ("deploys", "deploy 42 done", 1)
