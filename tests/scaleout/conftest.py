"""Two apps sharing Redis and PostgreSQL, each on its own port: two nodes of one deployment."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.databases import fresh_postgres_database, postgres_url
from tests.support import LiveServer, running
from tests.support import test_settings as settings_for


def redis_url() -> str:
    url = os.environ.get("PARLEY_TEST_REDIS_URL")
    if not url:
        pytest.skip("PARLEY_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    return url


@asynccontextmanager
async def two_nodes(
    tmp_path: Path, redis: str | None = None, database: str | None = None, **overrides: Any
) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    """Two nodes on a fresh PostgreSQL database and one Redis channel, each with its own data
    directory under ``tmp_path``; ``redis`` a Redis of the test's own (else the shared one),
    ``database`` the URL of an empty database of the test's own (else a fresh one on the shared
    server); ``overrides`` are settings both share."""
    redis = redis or redis_url()
    channel = f"parley-test-{uuid.uuid4().hex[:8]}"  # isolates this test's pub/sub traffic
    async with AsyncExitStack() as stack:
        url = database or await stack.enter_async_context(
            fresh_postgres_database(postgres_url(), migrated=True)
        )
        servers = []
        for name in ("a", "b"):
            settings = settings_for(
                tmp_path / name, database_url=url, redis_url=redis, redis_channel=channel, **overrides
            )
            servers.append(await stack.enter_async_context(running(settings)))
        yield servers[0], servers[1]


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    async with two_nodes(tmp_path, default_topics=[]) as both:
        yield both
