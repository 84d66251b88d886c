"""The local-disk ``FileStore`` (``server.chat.files.service``): blobs content-addressed under the data dir.

Layout: ``<root>/ab/cd/<sha256>`` (the first two byte pairs of the hash as directories, so no
directory grows past 65,536 entries of them), its thumbnail beside it as ``<sha256>.thumb``, and
uploads being received in ``<root>/tmp/`` (the same file system, so a finished one is renamed
into place, never copied). A blob is written as temp file, fsync, rename, fsync of the directory:
a crash leaves the old state or the new one, never half a file. Several nodes share one
``root`` (a shared volume): every node sees every file (README "Files").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

HEAD_BYTES = 8192  # what content sniffing reads (filetype looks at no more)
THUMB = ".thumb"


class LocalStaging:
    """An upload written to a temp file, hashed as it is written."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file = open(path, "wb")  # closed by ``close`` or ``discard``
        self._hash = hashlib.sha256()
        self.size = 0
        self.head = b""

    @property
    def path(self) -> Path:
        return self._path

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def write(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        """Flush and fsync what was written (before it is decoded or renamed)."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(mode=0o700, parents=True, exist_ok=True)

    def stage(self) -> LocalStaging:
        return LocalStaging(self.tmp / f"upload-{uuid.uuid4().hex}")

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def keep(self, staged: object) -> None:
        assert isinstance(staged, LocalStaging)
        await asyncio.to_thread(self._keep, staged)

    def _keep(self, staged: LocalStaging) -> None:
        staged.close()
        target = self._path(staged.sha256)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.replace(staged.path, target)  # same bytes as any earlier copy: replacing is harmless
        _fsync_dir(target.parent)

    async def put_thumbnail(self, sha256: str, data: bytes) -> None:
        await asyncio.to_thread(self._put_thumbnail, sha256, data)

    def _put_thumbnail(self, sha256: str, data: bytes) -> None:
        target = self._path(sha256).with_name(sha256 + THUMB)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.tmp / f"thumb-{uuid.uuid4().hex}"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        _fsync_dir(target.parent)

    def blob(self, sha256: str) -> Path | None:
        path = self._path(sha256)
        return path if path.is_file() else None

    def thumbnail(self, sha256: str) -> Path | None:
        path = self._path(sha256).with_name(sha256 + THUMB)
        return path if path.is_file() else None

    def hashes(self) -> Iterator[str]:
        for first in self.root.glob("[0-9a-f][0-9a-f]"):
            for path in first.glob("[0-9a-f][0-9a-f]/*"):
                if len(path.name) == 64 and "." not in path.name:
                    yield path.name

    async def discard(self, sha256: str, used: Callable[[], Awaitable[bool]]) -> bool:
        """Move the blob and thumbnail aside, ask ``used()``, then delete them or put them back.

        An upload of the same bytes commits its row before it writes the blob: if ``used()`` sees
        no row, that upload's write comes later and puts the blob back itself.
        """
        path = self._path(sha256)
        aside = self.tmp / f"gone-{uuid.uuid4().hex}"
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            return False  # not there (another node took it)
        thumb = path.with_name(sha256 + THUMB)
        thumb_aside = aside.with_name(aside.name + THUMB)
        had_thumb = True
        try:
            os.replace(thumb, thumb_aside)
        except FileNotFoundError:
            had_thumb = False
        if await used():
            _restore(aside, path)
            if had_thumb:
                _restore(thumb_aside, thumb)
            return False
        aside.unlink()
        if had_thumb:
            thumb_aside.unlink()
        return True


def _restore(aside: Path, path: Path) -> None:
    """Put a blob back unless an upload wrote it again meanwhile (then the copy aside goes)."""
    if path.exists():
        aside.unlink()
    else:
        os.replace(aside, path)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
