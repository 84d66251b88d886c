"""Custom emoji (PROTOCOL.md section 13). A name is the key: of two uploads racing for one name,
the second insert breaks the key and its caller gets ``db.errors.Conflict`` (``flush``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.emoji.records import EmojiPicture, EmojiRecord
from db.emoji.tables import CustomEmoji
from db.values import flush


class EmojiRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def listed(self) -> list[EmojiRecord]:
        """Every custom emoji, by name."""
        result = await self.session.execute(
            select(
                col(CustomEmoji.name),
                col(CustomEmoji.sha256),
                col(CustomEmoji.width),
                col(CustomEmoji.height),
                col(User.username),
                col(CustomEmoji.created_at),
            )
            .outerjoin(User, col(User.id) == col(CustomEmoji.created_by))
            .order_by(col(CustomEmoji.name))
        )
        return [EmojiRecord(*row) for row in result.all()]

    async def exists(self, name: str) -> bool:
        found = await self.session.execute(select(col(CustomEmoji.name)).where(col(CustomEmoji.name) == name))
        return found.first() is not None

    async def add(
        self,
        name: str,
        content_type: str,
        data: bytes,
        sha256: str,
        size: tuple[int, int],
        created_by: int,
        now: datetime,
    ) -> None:
        """Raises ``db.errors.Conflict`` when the name is taken."""
        self.session.add(
            CustomEmoji(
                name=name,
                content_type=content_type,
                data=data,
                sha256=sha256,
                width=size[0],
                height=size[1],
                created_by=created_by,
                created_at=now,
            )
        )
        await flush(self.session)

    async def remove(self, name: str) -> bool:
        """True when there was one to remove."""
        result = await self.session.execute(delete(CustomEmoji).where(col(CustomEmoji.name) == name))
        return bool(getattr(result, "rowcount", 0))

    async def picture(self, name: str) -> EmojiPicture | None:
        row = (
            await self.session.execute(
                select(
                    col(CustomEmoji.name),
                    col(CustomEmoji.content_type),
                    col(CustomEmoji.data),
                    col(CustomEmoji.sha256),
                ).where(col(CustomEmoji.name) == name)
            )
        ).first()
        return None if row is None else EmojiPicture(*row)
