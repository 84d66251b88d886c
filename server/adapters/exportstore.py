"""The local-disk ``ExportStore`` (``server.chat.exports.ports``): each export's ZIP at
``<exports_dir>/<id>.zip`` (``PARLEY_EXPORTS_DIR``, by default ``exports`` in the files directory).

A ZIP is written as ``<id>.zip.<random>.part`` (``zipfile``, entry by entry, deflated; a file is copied a
chunk at a time and an entry of lines is appended a page at a time, so no entry is held whole in
memory), then fsynced and renamed into place: a ZIP that is there is complete. Every call runs in
a thread: compressing and writing never block the event loop. Several nodes share the
directory (a shared volume, like the files directory): the node that built an export and the
node that serves it need not be the same. (The file cleanup's sweep looks only at the blobs'
two-hex-digit directories, never in ``exports/``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

CHUNK = 1 << 20
PART = ".part"


class LocalArchive:
    def __init__(self, final: Path) -> None:
        self._final = final
        # Each attempt writes a part of its own: a build that outlived its lease and the one that
        # took the export over never write into one file (the last rename wins, whole either way).
        self._part = final.with_name(f"{final.name}.{uuid.uuid4().hex}{PART}")
        self._zip: zipfile.ZipFile | None = None
        self._entry: IO[bytes] | None = None

    def _open(self) -> zipfile.ZipFile:
        if self._zip is None:
            self._zip = zipfile.ZipFile(self._part, "w", compression=zipfile.ZIP_DEFLATED)
        return self._zip

    async def add_bytes(self, name: str, data: bytes) -> None:
        await asyncio.to_thread(lambda: self._open().writestr(name, data))

    async def begin(self, name: str) -> None:
        def begin() -> None:
            info = zipfile.ZipInfo(name, date_time=_now())
            info.compress_type = zipfile.ZIP_DEFLATED
            self._entry = self._open().open(info, "w", force_zip64=True)

        await asyncio.to_thread(begin)

    async def append(self, lines: Sequence[bytes]) -> None:
        entry = self._entry
        assert entry is not None
        if lines:
            await asyncio.to_thread(entry.write, b"".join(lines))

    async def end(self) -> None:
        entry, self._entry = self._entry, None
        if entry is not None:
            await asyncio.to_thread(entry.close)

    async def add_file(self, name: str, source: Path) -> None:
        def copy() -> None:
            info = zipfile.ZipInfo(name, date_time=_now())
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(source, "rb") as src, self._open().open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, CHUNK)

        await asyncio.to_thread(copy)

    async def close(self) -> int:
        return await asyncio.to_thread(self._close)

    def _close(self) -> int:
        self._open().close()
        with open(self._part, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(self._part, self._final)
        with contextlib.suppress(OSError):  # the rename made durable where the platform lets us
            directory = os.open(self._final.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return self._final.stat().st_size

    async def discard(self) -> None:
        def discard() -> None:
            with contextlib.suppress(Exception):
                if self._entry is not None:
                    self._entry.close()
                if self._zip is not None:
                    self._zip.close()
            with contextlib.suppress(FileNotFoundError):
                self._part.unlink()

        await asyncio.to_thread(discard)


class LocalExportStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _final(self, export_id: str) -> Path:
        if not export_id.isalnum():  # ids are hex: nothing else names a file here
            raise ValueError(f"not an export id: {export_id!r}")
        return self.root / f"{export_id}.zip"

    def create(self, export_id: str) -> LocalArchive:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        return LocalArchive(self._final(export_id))

    def path(self, export_id: str) -> Path | None:
        final = self._final(export_id)
        return final if final.is_file() else None

    async def remove(self, export_id: str) -> None:
        final = self._final(export_id)

        def remove() -> None:
            for path in (final, *final.parent.glob(f"{final.name}.*{PART}")):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

        await asyncio.to_thread(remove)


def _now() -> tuple[int, int, int, int, int, int]:
    moment = time.localtime()
    return (moment.tm_year, moment.tm_mon, moment.tm_mday, moment.tm_hour, moment.tm_min, moment.tm_sec)
