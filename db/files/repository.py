"""Uploaded files (PROTOCOL.md section 11): their rows; the blobs are the file store's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.files.records import FileRecord
from db.files.tables import File


class FileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, record: FileRecord) -> None:
        self.session.add(
            File(
                id=record.id,
                uploader_id=record.uploader_id,
                name=record.name,
                size=record.size,
                content_type=record.content_type,
                sha256=record.sha256,
                width=record.width,
                height=record.height,
                created_at=record.created_at,
                message_id=record.message_id,
            )
        )
        await self.session.flush()

    async def by_id(self, file_id: str) -> FileRecord | None:
        found = await self.session.get(File, file_id)
        return None if found is None else _record(found)

    async def by_ids(self, file_ids: Iterable[str]) -> list[FileRecord]:
        result = await self.session.execute(select(File).where(col(File.id).in_(list(file_ids))))
        return [_record(row) for row in result.scalars().all()]

    async def claim_usage(self, uploader_id: int) -> int:
        """The user's bytes, read under a lock on their row that this transaction keeps until it
        ends: a concurrent upload of theirs waits here for this one's row, so two cannot both
        pass the quota (PostgreSQL's read committed would let each miss the other's row; SQLite
        renders no ``FOR UPDATE`` and serialises its writers anyway)."""
        await self.session.execute(select(col(User.id)).where(col(User.id) == uploader_id).with_for_update())
        return await self.usage(uploader_id)

    async def usage(self, uploader_id: int) -> int:
        """The bytes of every file the user has (their quota counts these)."""
        result = await self.session.execute(
            select(func.coalesce(func.sum(col(File.size)), 0)).where(col(File.uploader_id) == uploader_id)
        )
        return int(result.scalar_one())

    async def remove(self, file_id: str) -> None:
        await self.session.execute(delete(File).where(col(File.id) == file_id))

    async def mark_avatar(self, file_id: str) -> None:
        """The file became an avatar: never swept as an unattached upload, and kept when replaced
        (PROTOCOL.md section 14). Every signed-in user may read it only while it is its
        uploader's avatar (``users.avatar_file_id``; the files service checks)."""
        await self.session.execute(update(File).where(col(File.id) == file_id).values(avatar=True))

    async def forget_message(self, message_id: int) -> list[str]:
        """Delete the rows of a deleted message's files; the hashes whose blobs may now be unused."""
        result = await self.session.execute(
            delete(File).where(col(File.message_id) == message_id).returning(col(File.sha256))
        )
        return sorted({row[0] for row in result.all()})

    async def forget_unattached(self, before: datetime) -> list[str]:
        """Delete the rows of files uploaded before ``before`` and never attached; their hashes."""
        result = await self.session.execute(
            delete(File)
            .where(col(File.message_id).is_(None), col(File.created_at) < before, col(File.avatar).is_(False))
            .returning(col(File.sha256))
        )
        return sorted({row[0] for row in result.all()})

    async def forget_orphaned_rows(self) -> None:
        """Delete the rows of files whose message is gone (an operator deleted its topic)."""
        await self.session.execute(
            text(
                "DELETE FROM files WHERE message_id IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = files.message_id)"
            )
        )

    async def used(self, sha256s: Iterable[str]) -> set[str]:
        """Which of these hashes a file row still has."""
        wanted = list(sha256s)
        if not wanted:
            return set()
        result = await self.session.execute(select(col(File.sha256)).where(col(File.sha256).in_(wanted)))
        return {row[0] for row in result.all()}


def _record(row: File) -> FileRecord:
    return FileRecord(
        id=row.id,
        uploader_id=row.uploader_id,
        name=row.name,
        size=row.size,
        content_type=row.content_type,
        sha256=row.sha256,
        width=row.width,
        height=row.height,
        created_at=row.created_at,
        message_id=row.message_id,
        avatar=row.avatar,
    )
