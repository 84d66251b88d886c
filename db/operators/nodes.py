"""The node table: each running server's heartbeat row (``server.chat.operators.nodes``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.operators.records import NodeRecord
from db.operators.tables import Node


class NodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def beat(self, name: str, started_at: datetime, now: datetime, sockets: int, users: int) -> None:
        """Rewrite this node's row, adding it if it is new (or was pruned while this node stalled)."""
        changed = await self.session.execute(
            update(Node).where(col(Node.name) == name).values(beat_at=now, sockets=sockets, users=users)
        )
        if not getattr(changed, "rowcount", 0):
            self.session.add(
                Node(name=name, started_at=started_at, beat_at=now, sockets=sockets, users=users)
            )
            await self.session.flush()

    async def remove(self, name: str) -> None:
        await self.session.execute(delete(Node).where(col(Node.name) == name))

    async def prune(self, before: datetime) -> None:
        """Forget the nodes that last beat before ``before`` (killed, not stopped)."""
        await self.session.execute(delete(Node).where(col(Node.beat_at) < before))

    async def live(self, since: datetime) -> list[NodeRecord]:
        """The nodes that beat at or after ``since``, by name."""
        result = await self.session.execute(
            select(Node).where(col(Node.beat_at) >= since).order_by(col(Node.name))
        )
        return [
            NodeRecord(node.name, node.started_at, node.beat_at, node.sockets, node.users)
            for node in result.scalars()
        ]
