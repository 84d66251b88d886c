"""What an export's ZIP holds when the rows take several pages (``server.chat.exports.builder``,
pages of 2 rows here): every message once, oldest first, and every upload, against a real server's
database and file store, written by the real ``LocalExportStore``."""

from __future__ import annotations

from pathlib import Path

from server.adapters.exportstore import LocalExportStore
from server.adapters.filestore import LocalFileStore
from server.chat.exports.builder import Builder
from tests.exports_support import read
from tests.files_support import uploaded
from tests.support import LiveServer, send


async def test_pages_of_two_rows_make_the_whole_export(live_server: LiveServer, tmp_path: Path) -> None:
    token = await live_server.register("alice")
    alice = await live_server.connect("alice", token)
    await alice.ok("topic:create", {"name": "notes"})
    said = [await send(alice, {"topic": "notes", "body": f"line {n}"}) for n in range(5)]
    for n in range(3):
        await uploaded(live_server, token, f"file {n}".encode(), f"f{n}.txt")
    async with live_server.chat.db.read() as repos:
        user = await repos.users.by_name("alice")
    assert user is not None
    files = LocalFileStore(live_server.app.state.settings.resolved_files_dir)
    store = LocalExportStore(tmp_path / "exports")
    archive = store.create("a" * 32)
    await Builder(live_server.chat.db, files, user.id, page=2).write(archive)
    size = await archive.close()

    path = store.path("a" * 32)
    assert path is not None and path.stat().st_size == size
    assert [p.name for p in (tmp_path / "exports").iterdir()] == [path.name]  # no part left
    export = read(path.read_bytes())
    assert [line["id"] for line in export.messages] == [m["id"] for m in said]
    assert export.files == {f"files/f{n}.txt": f"file {n}".encode() for n in range(3)}
    await store.remove("a" * 32)
    assert store.path("a" * 32) is None
