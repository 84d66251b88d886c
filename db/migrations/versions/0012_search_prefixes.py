"""search on SQLite: short prefixes read from the index, and an index made again in batches

The FTS5 table is made again with ``prefix='1 2'`` (the first one and two letters of every word
are indexed too: ``k*`` no longer merges the lists of every word starting with k), with triggers
that leave pending messages to the backfill; every message is marked pending and indexed after the
migration in short batches by the server (``db/search/sqlite.py``). PostgreSQL: nothing.

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-23 11:00:00
"""

from collections.abc import Sequence

from alembic import op

from db.search import sqlite as lite

revision: str = "0012"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    made = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").scalar()
    if made is not None and f"prefix='{lite.PREFIXES}'" in made:
        return  # made by 0008 with this module's layout already
    lite.remake(bind.exec_driver_sql)


def downgrade() -> None:
    """The prefix lists stay (an index that 0008 reads the same way)."""
