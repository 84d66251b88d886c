"""One namespace for topic names and usernames (PROTOCOL.md section 3).

The original protocol's ``message {topic_name}`` sends to the topic of that name or else to the
user, so a topic may not take a registered username, nor an account a topic's name. The two live
in two tables with a unique key each; no constraint spans both, so every path that creates or
renames either first ``claim``s the name in its transaction, then looks in both tables:

- PostgreSQL: a transaction-scoped advisory lock on the name's key. Two transactions claiming one
  name take turns, and the second one's lookups (READ COMMITTED: each statement sees what was
  committed before it) see the first one's row. Any node, any process.
- SQLite: a write that changes nothing, which starts the write transaction at once (SQLite has one
  writer; in this process ``Database.write`` queues writers already). Later reads of the
  transaction see the newest commit, and another process's writer waits on the busy timeout.

What remains: a row written without a claim (a manual insert, an older server during a rolling
upgrade) can still collide; migration 0005 repairs collisions found in existing data. Two names
whose keys share a 64-bit hash merely take turns.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import false, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.conversations.tables import Topic

# Keys of this lock space: the first byte of the key's hash is replaced by "n" (for names), so it
# never meets the migration lock (db/migrate.py), which is below 2^48.
_SPACE = 0x6E << 56


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name`` (any case)."""
    digest = int.from_bytes(hashlib.blake2b(name.lower().encode(), digest_size=7).digest())
    key = _SPACE | digest
    return key - 2**64 if key >= 2**63 else key


class NameRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, name: str) -> None:
        """Hold ``name`` (any case) until this transaction ends, before looking whether it is free."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})
        else:
            await self.session.execute(update(Topic).where(false()).values(last_seq=col(Topic.last_seq)))

    async def user_holds(self, name: str) -> bool:
        """Whether an account has this name (any case; a deleted one's placeholder never matches)."""
        query = select(col(User.id)).where(col(User.username_key) == name.lower())
        result = await self.session.execute(query)
        return result.first() is not None

    async def topic_holds(self, name: str) -> bool:
        """Whether a public or private topic has this name (any case)."""
        result = await self.session.execute(
            select(col(Topic.id)).where(col(Topic.name_key) == name.lower(), col(Topic.kind) != "direct")
        )
        return result.first() is not None
