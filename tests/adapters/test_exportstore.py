"""The local-disk export store (``server.adapters.exportstore``): a ZIP appears only whole, under
its id, after ``close``; a discarded one leaves nothing; ``remove`` takes the ZIP and any part an
unfinished build left; an id that is not one names no file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from server.adapters.exportstore import LocalExportStore

EXPORT = "b" * 32


async def test_a_zip_is_there_only_once_closed(tmp_path: Path) -> None:
    store = LocalExportStore(tmp_path / "exports")
    source = tmp_path / "blob"
    source.write_bytes(b"x" * 100_000)
    archive = store.create(EXPORT)
    await archive.add_bytes("profile.json", b"{}")
    await archive.begin("messages.jsonl")
    await archive.append([b'{"id": 1}\n', b'{"id": 2}\n'])
    await archive.append([])
    await archive.end()
    await archive.add_file("files/blob", source)
    assert store.path(EXPORT) is None  # still a part
    size = await archive.close()
    path = store.path(EXPORT)
    assert path is not None and path.stat().st_size == size < 100_000  # deflated
    with zipfile.ZipFile(path) as done:
        assert done.namelist() == ["profile.json", "messages.jsonl", "files/blob"]
        assert done.read("messages.jsonl") == b'{"id": 1}\n{"id": 2}\n'
        assert done.read("files/blob") == source.read_bytes()
        assert {info.compress_type for info in done.infolist()} == {zipfile.ZIP_DEFLATED}


async def test_a_discarded_or_removed_export_leaves_nothing(tmp_path: Path) -> None:
    store = LocalExportStore(tmp_path / "exports")
    archive = store.create(EXPORT)
    await archive.begin("messages.jsonl")
    await archive.append([b"half\n"])
    await archive.discard()
    assert list((tmp_path / "exports").iterdir()) == []
    left = store.create(EXPORT)  # a build killed midway leaves its part
    await left.add_bytes("profile.json", b"{}")
    await store.remove(EXPORT)
    assert list((tmp_path / "exports").iterdir()) == []
    await left.discard()  # (the killed build's open file, closed here)


def test_only_an_export_id_names_a_file(tmp_path: Path) -> None:
    store = LocalExportStore(tmp_path / "exports")
    with pytest.raises(ValueError, match="not an export id"):
        store.path("../secret")
