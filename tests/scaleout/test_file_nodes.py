"""Files across two nodes (PROTOCOL.md section 11): one PostgreSQL, one Redis and one shared files
directory (``PARLEY_FILES_DIR``, a shared volume in production): a file uploaded on one node is
attached and downloaded on the other, and a deletion on either removes it for both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.files_support import blobs, png, uploaded
from tests.scaleout.conftest import two_nodes
from tests.support import LiveServer, bearer, send

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
async def sharing(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    """Two nodes with their own data directories and one files directory."""
    async with two_nodes(tmp_path, files_dir=tmp_path / "shared-files") as both:
        yield both


async def test_upload_on_one_node_send_and_download_on_the_other(sharing) -> None:  # type: ignore[no-untyped-def]
    node_a, node_b = sharing
    alice_token = await node_a.register("alice")
    bob = await node_b.user("bob")
    alice = await node_b.connect("alice", alice_token)
    found = await uploaded(node_a, alice_token, png(400, 200), "shot.png")
    sent = await send(alice, {"topic": "lobby", "body": "", "files": [found["id"]]})
    assert sent["files"] == [found]
    assert (await bob.next("message"))["files"] == [found]
    bob_token = (
        await node_b.http.post("/api/auth/login", json={"username": "bob", "password": "password123"})
    ).json()["token"]
    for node in (node_a, node_b):
        full = await node.http.get(found["url"], headers=bearer(bob_token))
        assert full.status_code == 200
        thumb = await node.http.get(found["image"]["thumbnail_url"], headers=bearer(bob_token))
        assert thumb.status_code == 200
    await alice.ok("message:delete", {"id": sent["id"]})
    for node in (node_a, node_b):
        assert (await node.http.get(found["url"], headers=bearer(alice_token))).status_code == 404
    assert blobs(node_a) == blobs(node_b) == []
