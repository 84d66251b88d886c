"""``tests.support.listening``: a server whose start-up fails fails only the test that started it.

uvicorn ends a failed start-up with ``sys.exit(3)``. Raised in a task, a ``SystemExit`` is not
kept in the task: asyncio lets it out of the event loop, which broke the session's loop for
every later test of that worker (a clean-clone run: one PostgreSQL connect that timed out at a
node's start, then every following test of the worker an ``AssertionError`` in set-up).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
import uvicorn

from tests.support import listening


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app whose start-up fails, as Parley's does when its database is out of reach."""
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "the database did not answer"})


async def test_a_failed_start_up_is_an_ordinary_error_and_the_loop_serves_on() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="critical", lifespan="on")

    with pytest.raises(RuntimeError, match="start-up failed"):
        async with listening(config, sock):
            pass  # pragma: no cover

    assert await asyncio.sleep(0, "still running") == "still running"
