"""search: short prefixes read from the index (SQLite), the same letters folded on both databases

SQLite: the FTS5 table is made again with ``prefix='1 2'`` (the first one and two letters of
every word are indexed too: ``k*`` no longer merges the lists of every word starting with k), with
triggers that leave pending messages to the backfill; every message is marked pending and indexed
after the migration in short batches by the server (``db/search/sqlite.py``). PostgreSQL:
``parley_search_text`` no longer lets ``unaccent`` fold the letters SQLite keeps (ß, æ, ø, ...),
and the few rows that hold one are computed again by the server's backfill; a generated column
(0008's first layout, whose ``ALTER TABLE`` locked the table while it computed every row) becomes
the column kept by a trigger, every row pending.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 11:00:00
"""

from collections.abc import Sequence

from alembic import op

from db.search import postgres as pg
from db.search import sqlite as lite

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        made = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").scalar()
        if made is None or f"prefix='{lite.PREFIXES}'" not in made:  # else 0008 made this layout
            lite.remake(bind.exec_driver_sql)
        return
    installed = "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    schema = bind.exec_driver_sql(f"{installed} WHERE e.extname = 'unaccent'").scalar_one()
    bind.exec_driver_sql(pg.function_sql(str(schema), pg.is_utf8(bind.exec_driver_sql)))
    generated = bind.exec_driver_sql(
        "SELECT attgenerated::text FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attname = 'search'"
    ).scalar()
    if generated == "s":  # 0008's first layout: a generated column, remade as a kept one
        pg.make_column(bind.exec_driver_sql)
    else:  # rows an older function computed differently become pending again
        bind.exec_driver_sql(f"UPDATE messages SET search = NULL WHERE body ~ '{pg.KEPT_PATTERN}'")


def downgrade() -> None:
    """What 0008 reads the same way stays (the prefix lists, the function)."""
