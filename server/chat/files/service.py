"""Files (PROTOCOL.md section 11): uploads, downloads by readers only, and their cleanup.

The bytes live behind a port, ``FileStore`` (content-addressed by SHA-256: one blob however many
uploads have the same bytes); the local-disk implementation is ``server.adapters.filestore``, and
an S3-compatible one would implement the same few methods. The transport streams an upload into
``FileStore.stage()`` (the limit enforced while it reads) and hands the staged file here; this
service sniffs its type from the bytes (binary signatures, else the kind of UTF-8 text:
``text_types.py``), measures and thumbnails images (``images.py``, in the pictures' own
worker, ``decoding.py``, for uploads and avatars alike), checks the uploader's quota and rate,
and stores the row, then the blob.

Order matters for a store shared by several nodes: a blob is written (``keep``) only AFTER its row
is committed, and a blob is removed only when no row names its hash, checked again after it was
moved aside (``FileStore.discard``). Whatever interleaving of an upload and a removal, the blob is
there once the upload answers.

A file is attached by the send that names it (``messages.py``, checked again in the writer's
transaction, ``db/sends.py``); the message then keeps the File objects (``file_object``) so that a
rendering reads one row. A deleted message's file rows go with it, and their blobs once unused.

Errors: ``too_large`` (past the size limit, or the uploader's quota), ``rate_limited`` (uploads
per minute), ``invalid`` (no file, an empty one), ``not_found`` (a file the caller may not read,
worded as for a missing one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import filetype

from db.records import FileRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.files import images, text_types
from server.chat.files.decoding import decoded
from server.chat.kernel.actors import Actor
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.errors import ChatError, ErrorCode, invalid, not_found, rate_limited
from server.chat.kernel.periodic import Periodic
from server.chat.rules.access import locate_message

log = logging.getLogger("parley.files")
MAX_NAME = 255
OCTET_STREAM = "application/octet-stream"
INLINE_TYPES = frozenset(images.TYPES)  # served inline; everything else as an attachment
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
SWEEP_INTERVAL = 600.0  # seconds between two cleanup rounds of one node
SWEEP_LOCK = 23_0011  # the PostgreSQL advisory lock key of the sweep (one node at a time)


class Staging(Protocol):
    """An upload being written: bytes so far, their SHA-256, the first few KiB (for sniffing)."""

    size: int
    head: bytes

    @property
    def path(self) -> Path: ...

    @property
    def sha256(self) -> str: ...

    def write(self, chunk: bytes) -> None: ...

    def close(self) -> None:
        """Everything written is on disk (before decoding or keeping it)."""
        ...

    def discard(self) -> None: ...


class FileStore(Protocol):
    """Where the bytes are: content-addressed blobs and their thumbnails."""

    def stage(self) -> Staging:
        """A new temporary file for an upload (removed by ``discard`` or moved by ``keep``)."""
        ...

    async def keep(self, staged: Staging) -> None:
        """Make the staged bytes the blob of their hash, durably (any earlier copy is replaced)."""
        ...

    async def put_thumbnail(self, sha256: str, data: bytes) -> None: ...

    def blob(self, sha256: str) -> Path | None:
        """The blob's local path, None when it is not there."""
        ...

    def thumbnail(self, sha256: str) -> Path | None: ...

    def hashes(self) -> Iterator[str]:
        """Every blob's hash (the orphan sweep)."""
        ...

    async def discard(self, sha256: str, used: Callable[[], Awaitable[bool]]) -> bool:
        """Remove the blob (and thumbnail) unless ``used()``, asked once it is moved aside. True if
        removed."""
        ...


@dataclass(frozen=True, kw_only=True)
class FileLimits:
    max_bytes: int  # PARLEY_MAX_FILE_BYTES
    uploads_per_minute: int  # PARLEY_FILE_UPLOADS_PER_MINUTE
    quota_bytes: int  # PARLEY_FILE_QUOTA_BYTES
    unattached_ttl: float  # PARLEY_FILE_UNATTACHED_TTL_SECONDS


@dataclass(frozen=True)
class Download:
    """What a reader gets: the file's row, the local path of its bytes (or thumbnail) and their type."""

    file: FileRecord
    path: Path
    content_type: str
    inline: bool


def clean_name(raw: str) -> str:
    """A display name: no directories (``/`` or ``\\``), no control or bidi characters, at most
    255 characters; ``file`` when nothing is left."""
    name = re.split(r"[/\\]", raw)[-1]
    name = BIDI_CONTROLS.sub("", name)
    name = "".join(char for char in name if unicodedata.category(char) not in ("Cc", "Cs"))
    name = name.strip()[:MAX_NAME].strip()
    return "file" if name in ("", ".", "..") else name


async def sniff(staged: Staging, name: str) -> str:
    """The content type the bytes say, never what the client claimed: a binary signature
    (``filetype``), else the kind of UTF-8 text (``text_types``: the name only tells CSV and
    Markdown from plain text), else ``application/octet-stream``."""
    kind = filetype.guess(staged.head) if staged.head else None
    if kind is not None:
        return str(kind.mime)
    text = text_types.text_of(staged.head, complete=staged.size <= len(staged.head))
    if text is None:
        return OCTET_STREAM
    json_like = text_types.may_be_json(text, staged.size)
    if json_like and await asyncio.to_thread(text_types.parsed_json, staged.path):
        return text_types.JSON
    return text_types.kind(text, name)


def file_object(record: FileRecord) -> dict[str, Any]:
    """The File object of PROTOCOL.md section 11, as messages keep and render it."""
    url = f"/api/files/{record.id}"
    image = None
    if record.width is not None and record.height is not None:
        image = {"width": record.width, "height": record.height, "thumbnail_url": f"{url}/thumbnail"}
    return {
        "id": record.id,
        "name": record.name,
        "size": record.size,
        "content_type": record.content_type,
        "sha256": record.sha256,
        "url": url,
        "image": image,
    }


def thumbnail_type(content_type: str) -> str:
    return "image/jpeg" if content_type == "image/jpeg" else "image/png"


class FileService:
    def __init__(
        self, db: Database, store: FileStore, limits: FileLimits, uploads: SharedLimit | None = None
    ) -> None:
        self.db = db
        self.store = store
        self.limits = limits
        self._uploads = uploads or SharedLimit("uploads", limits.uploads_per_minute, 60.0)
        self._sweeper = Periodic(self._sweep_round, SWEEP_INTERVAL, "the file cleanup")

    def start(self) -> None:
        self._sweeper.start()

    async def stop(self) -> None:
        await self._sweeper.stop()

    @contextlib.asynccontextmanager
    async def upload(self, actor: Actor) -> AsyncIterator[Staging]:
        """A staged file for the transport to stream into, after the rate check; discarded if the
        block raises (``too_large`` while reading, a dropped connection), else ``save`` is called
        on it within the block."""
        wait = await self._uploads.take(str(actor.id))
        if wait > 0:
            raise rate_limited(f"at most {self.limits.uploads_per_minute} uploads a minute", wait)
        staged = self.store.stage()
        try:
            yield staged
        finally:
            staged.discard()  # a no-op once kept

    def too_large(self) -> ChatError:
        return ChatError(ErrorCode.TOO_LARGE, f"a file may have at most {self.limits.max_bytes} bytes")

    async def save(self, actor: Actor, staged: Staging, name: str) -> dict[str, Any]:
        """Sniff, measure, check the quota, store row then blob; the File object."""
        await asyncio.to_thread(staged.close)
        if staged.size == 0:
            raise invalid("the file is empty")
        if staged.size > self.limits.max_bytes:
            raise self.too_large()
        name = clean_name(name)
        content_type = await sniff(staged, name)
        picture = None
        if content_type in images.TYPES:
            picture = await decoded(images.inspect, staged.path, content_type)
        record = FileRecord(
            id=uuid.uuid4().hex,
            uploader_id=actor.id,
            name=name,
            size=staged.size,
            content_type=content_type,
            sha256=staged.sha256,
            width=picture.width if picture else None,
            height=picture.height if picture else None,
            created_at=datetime.now(UTC),
        )
        async with self.db.write() as repos:
            used = await repos.files.claim_usage(actor.id)  # the quota holds under concurrency
            if used + record.size > self.limits.quota_bytes:
                raise ChatError(
                    ErrorCode.TOO_LARGE,
                    f"this file would take you past your quota of {self.limits.quota_bytes} bytes "
                    f"({used} used); delete messages with files to make room",
                )
            await repos.files.add(record)
        try:
            await self.store.keep(staged)
            if picture is not None:
                await self.store.put_thumbnail(record.sha256, picture.thumbnail)
        except BaseException:
            async with self.db.write() as repos:
                await repos.files.remove(record.id)
            raise
        return file_object(record)

    async def attachable(self, actor: Actor, file_ids: Sequence[str]) -> tuple[dict[str, Any], ...]:
        """The File objects of files ``actor`` may attach, in the order given; ``invalid`` unless
        every one is the actor's and not attached yet (the writer's transaction checks again)."""
        async with self.db.read() as repos:
            found = {record.id: record for record in await repos.files.by_ids(file_ids)}
        objects = []
        for file_id in file_ids:
            record = found.get(file_id)
            if record is None or record.uploader_id != actor.id:
                raise invalid(f"no file {file_id!r} of yours to attach (upload it with POST /api/files)")
            if record.message_id is not None:
                raise invalid(f"file {file_id!r} is attached to a message already")
            objects.append(file_object(record))
        return tuple(objects)

    async def download(self, actor: Actor, file_id: str, thumbnail: bool = False) -> Download:
        """The bytes of a file the actor may read: theirs, someone's avatar now, or attached to a
        message they may read. ``not_found`` otherwise, as for a missing one (and for the
        thumbnail of a non-image)."""
        async with self.db.read() as repos:
            record = await repos.files.by_id(file_id)
            if record is None or not await _may_read(repos, actor, record):
                raise _no_file(file_id)
        if thumbnail:
            if record.width is None:
                raise _no_file(file_id)
            path = self.store.thumbnail(record.sha256)
            content_type = thumbnail_type(record.content_type)
        else:
            path = self.store.blob(record.sha256)
            content_type = record.content_type
        if path is None:
            raise _no_file(file_id)
        return Download(record, path, content_type, content_type in INLINE_TYPES)

    async def release(self, sha256s: Sequence[str]) -> None:
        """After a commit that deleted file rows: remove each blob no row names any more."""
        for sha256 in sha256s:
            await self.store.discard(sha256, partial_used(self.db, sha256))

    async def _sweep_round(self) -> None:
        await self.sweep()

    async def sweep(self, now: datetime | None = None) -> int:
        """One cleanup round: rows never attached within the TTL (and rows of messages gone with
        their topic), then blobs no row names. One node at a time on PostgreSQL: the whole round,
        blobs included, holds the cluster's sweep lock (``Database.exclusive``); a node that
        finds it held skips its round. The number of blobs removed."""
        now = now or datetime.now(UTC)
        async with self.db.exclusive(SWEEP_LOCK) as mine:
            if not mine:
                return 0
            async with self.db.write() as repos:
                await repos.files.forget_orphaned_rows()
                await repos.files.forget_unattached(now - timedelta(seconds=self.limits.unattached_ttl))
            removed = 0
            for sha256 in list(self.store.hashes()):
                if await self.store.discard(sha256, partial_used(self.db, sha256)):
                    removed += 1
        return removed


async def _may_read(repos: Repositories, actor: Actor, record: FileRecord) -> bool:
    """The uploader always; every signed-in user while the file is its uploader's avatar (a
    replaced or removed avatar is an ordinary file again, PROTOCOL.md section 14); else those who
    may read the message it is attached to."""
    if record.uploader_id == actor.id or await _is_avatar_now(repos, record):
        return True
    if record.message_id is None:
        return False
    try:
        await locate_message(repos, actor, record.message_id)
    except ChatError:
        return False
    return True


async def _is_avatar_now(repos: Repositories, record: FileRecord) -> bool:
    """Whether the file is its uploader's avatar at this moment. ``avatar`` alone says it once was
    (it keeps the file from the sweep); only its uploader can have set it, so one row by key says."""
    if not record.avatar:
        return False
    uploader = await repos.users.by_id(record.uploader_id)
    return uploader is not None and uploader.avatar_file_id == record.id


def partial_used(db: Database, sha256: str) -> Callable[[], Awaitable[bool]]:
    async def used() -> bool:
        async with db.read() as repos:
            return bool(await repos.files.used([sha256]))

    return used


def _no_file(file_id: str) -> ChatError:
    """The one answer for a missing file and one the caller may not read."""
    return not_found(f"no file with id {file_id!r}")
