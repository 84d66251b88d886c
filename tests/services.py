"""Which local services the suite uses: the ones named in the environment, else the defaults if
they answer (PostgreSQL and Redis on their standard local ports), so ``make test`` runs every test
this machine can run and says so in its header; what it still skips is summed up at the end."""

from __future__ import annotations

import asyncio
import os
from collections import Counter

import asyncpg
import redis

POSTGRES_ENV = "PARLEY_TEST_DATABASE_URL"
REDIS_ENV = "PARLEY_TEST_REDIS_URL"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
HOW = {
    "PARLEY_TEST_DATABASE_URL": f"start PostgreSQL (or set PARLEY_TEST_DATABASE_URL: {DEFAULT_POSTGRES})",
    "PARLEY_TEST_REDIS_URL": f"start Redis (or set PARLEY_TEST_REDIS_URL, e.g. {DEFAULT_REDIS})",
    "chromium": "apt-get install chromium",
    "nginx": "apt-get install nginx",
    "docker-compose": "apt-get install docker-compose",
    "coturn": "apt-get install coturn",
    "node": "install Node.js with npm",
}


def _postgres_answers(url: str) -> bool:
    async def probe() -> None:
        connection = await asyncpg.connect(url.replace("+asyncpg", "", 1), timeout=2)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def detect() -> list[str]:
    """Use the default local services when none is named and they answer; one line per service."""
    lines = []
    for env, default, answers, name in (
        (POSTGRES_ENV, DEFAULT_POSTGRES, _postgres_answers, "PostgreSQL"),
        (REDIS_ENV, DEFAULT_REDIS, _redis_answers, "Redis"),
    ):
        if os.environ.get(env):
            lines.append(f"{name}: {os.environ[env]} (from {env})")
        elif answers(default):
            os.environ[env] = default
            lines.append(f"{name}: {default} (found on the default port; {env} chooses another)")
        else:
            lines.append(f"{name}: none (no {env}, nothing on the default port): its tests are skipped")
    return lines


def skip_summary(reasons: list[str]) -> list[str]:
    """The skipped tests counted by what they missed, each with how to run them."""
    missing: Counter[str] = Counter()
    for reason in reasons:
        need = next((key for key in HOW if key in reason), reason[:80])
        missing[need] += 1
    return [
        f"{count} skipped for want of {need}: {HOW.get(need, 'see the reason above')}"
        for need, count in missing.most_common()
    ]
