"""``/readyz`` asks Redis too when a node has one (server/app.py imports the client only then)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scaleout.conftest import two_nodes

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def test_readyz_checks_redis_when_the_node_uses_it(tmp_path: Path) -> None:
    async with two_nodes(tmp_path, default_topics=[]) as (node, _other):
        response = await node.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "redis": "ok"}
