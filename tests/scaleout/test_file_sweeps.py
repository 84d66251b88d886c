"""Two nodes' file sweeps (PROTOCOL.md section 11: "a file not attached within 24 hours is
removed") on one PostgreSQL and one shared files directory: while one node sweeps, the other
skips its round, and every orphan blob is removed exactly once, without an error."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.chat.files.service import FileService
from tests.files_support import blobs
from tests.scaleout.conftest import two_nodes
from tests.support import LiveServer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
ORPHANS = 300  # enough that the first sweep is still removing when the second one starts
WAIT = 10.0


@pytest.fixture
async def sharing(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    async with two_nodes(tmp_path, files_dir=tmp_path / "shared-files") as both:
        yield both


def files_of(node: LiveServer) -> FileService:
    files = node.chat.files
    assert files is not None
    return files


async def orphans(files: FileService, count: int) -> None:
    """Blobs no row names (as a crash between a row's removal and its blob's would leave)."""
    for n in range(count):
        staged = files.store.stage()
        staged.write(f"orphan {n}".encode())
        staged.close()
        await files.store.keep(staged)


async def test_two_nodes_sweeping_at_once_remove_each_orphan_once_one_node_at_a_time(
    sharing: tuple[LiveServer, LiveServer], caplog: pytest.LogCaptureFixture
) -> None:
    node_a, node_b = sharing
    files_a, files_b = files_of(node_a), files_of(node_b)
    await orphans(files_a, ORPHANS)
    assert len(blobs(node_a)) == len(blobs(node_b)) == ORPHANS
    caplog.set_level(logging.WARNING)

    first = asyncio.create_task(files_a.sweep())
    async with asyncio.timeout(WAIT):  # node A is removing blobs: node B sweeps now
        while len(blobs(node_a)) == ORPHANS and not first.done():
            await asyncio.sleep(0.001)
    second = await files_b.sweep()
    removed = await first

    assert (removed, second) == (ORPHANS, 0)  # one node swept; the other skipped its round
    assert blobs(node_a) == blobs(node_b) == []
    shared = node_a.app.state.settings.resolved_files_dir
    assert not [p for p in os.listdir(shared / "tmp") if p.startswith("gone-")]  # nothing left aside
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    # the lock is free again: a later round of either node runs (and finds nothing)
    assert await files_b.sweep() == 0 and await files_a.sweep() == 0
