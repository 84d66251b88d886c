"""Fixtures for the client demo tests: demo processes reaped after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.client_demo.demo import Demo
from tests.support import LiveServer

Spawn = Callable[..., Awaitable[Demo]]


@pytest.fixture
async def spawn(live_server: LiveServer) -> AsyncIterator[Spawn]:
    """Start ``python -m client_demo --url <live server> ARGS``; killed and reaped at teardown.

    Depends on ``live_server`` so that the clients go before the server does.
    """
    started: list[Demo] = []

    async def start(*args: str, env: dict[str, str] | None = None) -> Demo:
        demo = await Demo.start("--url", live_server.url, *args, env=env)
        started.append(demo)
        return demo

    yield start
    for demo in started:
        await demo.stop()
