"""File cleanup (PROTOCOL.md section 11): uploads never attached go after the TTL, blobs no file row
names go, attached files stay; one sweep is run directly (``FileService.sweep``) instead of waiting
for the periodic task. Both databases; on PostgreSQL a sweep holds the cluster's advisory lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.models import File
from tests.files_support import blobs, uploaded
from tests.support import LiveServer, bearer, count, send

pytestmark = pytest.mark.both_databases
DAY = timedelta(seconds=86400)


async def test_unattached_files_go_after_a_day_attached_ones_stay(live_server: LiveServer) -> None:
    alice = await live_server.user("alice")
    token = await live_server.register("bob")
    bob = await live_server.connect("bob", token)
    await bob.ok("topic:subscribe", {"topic": "lobby"})
    sent = await uploaded(live_server, token, b"attached", "a.txt")
    loose = await uploaded(live_server, token, b"never sent", "l.txt")
    await send(bob, {"topic": "lobby", "body": "", "files": [sent["id"]]})
    files = live_server.chat.files
    assert files is not None
    assert await files.sweep(datetime.now(UTC) + DAY - timedelta(minutes=1)) == 0  # not yet
    assert await count(live_server, File) == 2
    assert await files.sweep(datetime.now(UTC) + DAY + timedelta(minutes=1)) == 1
    assert await count(live_server, File) == 1
    assert [path.name for path in blobs(live_server)] == [sent["sha256"]]
    assert (await live_server.http.get(loose["url"], headers=bearer(token))).status_code == 404
    assert (await live_server.http.get(sent["url"], headers=bearer(token))).status_code == 200
    del alice


async def test_a_blob_no_row_names_is_swept_one_a_row_names_is_not(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    kept = await uploaded(live_server, token, b"kept", "k.txt")
    root = live_server.app.state.settings.resolved_files_dir
    stray = root / "ab" / "cd" / ("abcd" + "0" * 60)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by a crash")
    files = live_server.chat.files
    assert files is not None
    assert await files.sweep() == 1
    assert not stray.exists()
    assert [path.name for path in blobs(live_server)] == [kept["sha256"]]


async def test_a_blob_shared_with_a_live_file_survives_the_expiry_of_another(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    bob = await live_server.register("bob")
    await uploaded(live_server, token, b"same", "a.txt")
    later = await uploaded(live_server, bob, b"same", "b.txt")
    files = live_server.chat.files
    assert files is not None
    async with live_server.chat.db.write() as repos:  # alice's upload is two days old
        await repos.session.execute(
            File.__table__.update()  # type: ignore[attr-defined]
            .where(File.__table__.c.id != later["id"])  # type: ignore[attr-defined]
            .values(created_at=datetime.now(UTC) - 2 * DAY)
        )
    assert await files.sweep() == 0
    assert await count(live_server, File) == 1
    assert (await live_server.http.get(later["url"], headers=bearer(bob))).content == b"same"
