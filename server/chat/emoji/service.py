"""Custom emoji (PROTOCOL.md section 13).

- ``listed``: every custom emoji, for every signed-in user.
- ``add``: by the workspace's owners and admins (``forbidden`` otherwise, asked in the write's own
  transaction, so a demotion on another node counts at once). The name is 1-32 of ``a-z0-9_-``
  (``invalid``), not taken (``conflict``); the file is an upload staged by the transport (files'
  ``FileStore.stage``, the same streamed path as section 11's uploads), at most 256 KiB
  (``too_large``), a PNG, JPEG, GIF or WebP by its bytes (sniffed as section 11 does), decoded
  in the pictures' own worker under section 11's pixel and memory bounds (``invalid`` when it
  cannot be), and kept re-encoded, at most 128 pixels a side, without metadata (a GIF's first
  frame). The row holds the picture: every node serves it from the database.
- ``remove``: the same people; ``not_found`` for a name that is not there.
- Each change is audited (``emoji.add``, ``emoji.remove``) and sends ``emoji:updated`` with the
  whole list to everyone online, on every node.

Nothing is written when a check fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from db.emoji.records import EmojiPicture, EmojiRecord
from db.emoji.repository import EmojiRepository
from db.errors import Conflict
from db.repositories import Repositories
from db.uow import Database
from server.chat.emoji.schemas import MAX_BYTES, NAME, SHOWN, EmojiListOut, EmojiOut
from server.chat.files import images
from server.chat.files.decoding import decoded
from server.chat.files.service import FileService, Staging, sniff, thumbnail_type
from server.chat.kernel.actors import Actor, Doer
from server.chat.kernel.errors import ChatError, ErrorCode, conflict, invalid, not_found
from server.chat.kernel.events import EmojiChanged, EmojiEntry, ToEveryone
from server.chat.kernel.facts import Acted
from server.chat.kernel.views import iso_required
from server.chat.rules.workspace import require_admin

NOT_AN_IMAGE = "the file must be a PNG, JPEG, GIF or WebP picture"


@dataclass(frozen=True)
class Shown:
    width: int
    height: int
    data: bytes


def check_name(name: str) -> str:
    """The name as given; ``invalid`` unless it is 1-32 of ``a-z0-9_-``."""
    if not NAME.fullmatch(name):
        raise invalid("an emoji's name is 1 to 32 of a-z, 0-9, _ and -")
    return name


def too_large() -> ChatError:
    return ChatError(ErrorCode.TOO_LARGE, f"an emoji's picture may have at most {MAX_BYTES} bytes")


def shown(path: Path, jpeg: bool) -> Shown | None:
    """The picture at ``path`` made to fit 128 x 128 and re-encoded (no metadata); None when it
    cannot, or may not, be decoded (section 11's bounds: ``images.shrink``)."""
    fitted = images.shrink(path, (SHOWN, SHOWN))
    if fitted is None:
        return None
    try:
        return Shown(fitted.image.width, fitted.image.height, images.encode(fitted.image, jpeg))
    except Exception:  # whatever the pixels make Pillow raise: not a picture
        return None


class EmojiService:
    def __init__(self, db: Database, files: FileService | None) -> None:
        self.db = db
        self.files = files  # the uploads' staging and rate (None: the command line, no uploads)

    async def listed(self) -> EmojiListOut:
        async with self.db.read() as repos:
            found = await repos.of(EmojiRepository).listed()
        return EmojiListOut(emoji=[_out(record) for record in found])

    async def require_admin(self, actor: Actor) -> None:
        """``forbidden`` unless the actor administers the workspace (asked before an upload is
        read; ``add`` asks again)."""
        async with self.db.read() as repos:
            await _require_admin(repos, actor)

    @contextlib.asynccontextmanager
    async def upload(self, actor: Actor) -> AsyncIterator[Staging]:
        """A staged file for the transport to stream the picture into (the uploads' rate checked),
        discarded after the block."""
        if self.files is None:  # pragma: no cover - a server always has a store
            raise ChatError(ErrorCode.INTERNAL, "this server keeps no files")
        async with self.files.upload(actor) as staged:
            yield staged

    async def add(self, actor: Actor, name: str, staged: Staging) -> EmojiOut:
        check_name(name)
        await asyncio.to_thread(staged.close)
        if staged.size == 0:
            raise invalid("the file is empty")
        if staged.size > MAX_BYTES:
            raise too_large()
        content_type = await sniff(staged, name)
        if content_type not in images.TYPES:
            raise invalid(NOT_AN_IMAGE)
        jpeg = content_type == "image/jpeg"
        picture = await decoded(shown, staged.path, jpeg)
        if picture is None:
            raise invalid(f"{NOT_AN_IMAGE}, one that can be read (at most 50 million pixels)")
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            await _require_admin(repos, actor)
            if await repos.of(EmojiRepository).exists(name):
                raise conflict(f"there is a custom emoji :{name}: already")
            try:
                await repos.of(EmojiRepository).add(
                    name,
                    thumbnail_type(content_type),
                    picture.data,
                    staged.sha256,
                    (picture.width, picture.height),
                    actor.id,
                    now,
                )
            except Conflict:
                raise conflict(f"there is a custom emoji :{name}: already") from None
            repos.note(Acted(Doer.of(actor), "emoji.add", name))
            await _announce(repos)
        return EmojiOut(
            name=name, url=url_of(name, staged.sha256), by=actor.username, created_at=iso_required(now)
        )

    async def remove(self, actor: Actor, name: str) -> None:
        async with self.db.write() as repos:
            await _require_admin(repos, actor)
            if not await repos.of(EmojiRepository).remove(name):
                raise not_found(f"no custom emoji :{name}:")
            repos.note(Acted(Doer.of(actor), "emoji.remove", name))
            await _announce(repos)

    async def picture(self, name: str) -> EmojiPicture:
        async with self.db.read() as repos:
            found = await repos.of(EmojiRepository).picture(name)
        if found is None:
            raise not_found(f"no custom emoji :{name}:")
        return found


def url_of(name: str, sha256: str) -> str:
    """The picture's address: the hash's start tells a browser's cache a new picture of an old
    name (removed, then added again)."""
    return f"/api/emoji/{name}/image?v={sha256[:12]}"


def _out(record: EmojiRecord) -> EmojiOut:
    return EmojiOut(
        name=record.name,
        url=url_of(record.name, record.sha256),
        by=record.by,
        created_at=iso_required(record.created_at),
    )


async def _announce(repos: Repositories) -> None:
    entries = tuple(
        EmojiEntry(name=out.name, url=out.url, by=out.by, created_at=out.created_at)
        for out in map(_out, await repos.of(EmojiRepository).listed())
    )
    repos.record(EmojiChanged(entries, ToEveryone()))


async def _require_admin(repos: Repositories, actor: Actor) -> None:
    user = await repos.users.by_id(actor.id)
    require_admin("member" if user is None else user.role)
