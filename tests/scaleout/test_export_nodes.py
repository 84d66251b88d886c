"""Exports across two nodes (PROTOCOL.md section 16): one PostgreSQL, one Redis and one shared files
directory (where the ZIPs are written too). Each export is built once, by whichever node's worker
claims it (``SKIP LOCKED`` and a lease), and served by either node; the hourly limit holds for the
cluster, whichever node a request reaches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from db.models import Export
from tests.bots_support import Api, ok, refused
from tests.exports_support import fetched, read, requested
from tests.scaleout.conftest import two_nodes
from tests.support import LiveServer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
USERS = 6


@pytest.fixture
async def sharing(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    async with two_nodes(tmp_path, files_dir=tmp_path / "shared-files") as both:
        yield both


async def test_each_export_is_built_once_and_served_by_either_node(
    sharing: tuple[LiveServer, LiveServer],
) -> None:
    node_a, node_b = sharing
    asked: list[tuple[Api, Api, str, int]] = []
    for n in range(USERS):
        here, there = (node_a, node_b) if n % 2 == 0 else (node_b, node_a)
        token = await here.register(f"user{n}")
        api = Api(here, token)
        ok(await api.post("/api/topics", {"name": f"room{n}"}), 201)
        said = ok(await api.post("/api/messages", {"topic": f"room{n}", "body": f"note {n}"}), 201)
        asked.append((api, Api(there, token), await requested(api), said["id"]))
    for _, other, export_id, message_id in asked:
        response = await fetched(other, export_id)  # from the node that did not take the request
        assert response.status_code == 200, response.text
        assert [line["id"] for line in read(response.content).messages] == [message_id]
    workers = [node.chat.export_worker for node in (node_a, node_b)]
    assert sum(worker.built for worker in workers if worker is not None) == USERS
    async with node_a.chat.db.read() as repos:
        attempts = list((await repos.session.execute(select(col(Export.attempts)))).scalars())
    assert attempts == [1] * USERS  # no export was claimed twice


async def test_one_export_an_hour_whichever_node_is_asked(sharing: tuple[LiveServer, LiveServer]) -> None:
    node_a, node_b = sharing
    token = await node_a.register("alice")
    await requested(Api(node_a, token))
    refused(await Api(node_b, token).post("/api/users/me/export"), 429, "rate_limited")


async def test_two_requests_at_once_on_two_nodes_make_one_export(
    sharing: tuple[LiveServer, LiveServer],
) -> None:
    token = await sharing[0].register("alice")
    answers = await asyncio.gather(*(Api(node, token).post("/api/users/me/export") for node in sharing))
    assert sorted(answer.status_code for answer in answers) == [202, 429], [a.text for a in answers]
