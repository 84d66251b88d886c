"""search (PostgreSQL): the vector of an ASCII body computed without ``unaccent``, and no per-row SET

What an insert cost PostgreSQL grew by half with the search index (20,000 rows in batches of 50:
about 310 ms without the trigger, 630 ms with it, 490 ms after this migration): most of it was
``parley_search_text``'s two ``translate`` calls and ``unaccent``, which change no ASCII character,
and the trigger function's ``SET search_path``, which saves and restores the setting for every row.
``parley_search_text`` now lower-cases an ASCII body directly (the same text: no stored vector
changes, nothing is recomputed) and the trigger function names everything it calls with its schema
instead. SQLite: nothing.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 00:30:00
"""

from collections.abc import Sequence

from alembic import op

from db.search import postgres as pg

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTALLED = (
    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    " WHERE e.extname = 'unaccent'"
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    unaccent = bind.exec_driver_sql(INSTALLED).scalar_one()
    bind.exec_driver_sql(pg.function_sql(str(unaccent), pg.is_utf8(bind.exec_driver_sql)))
    here = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    bind.exec_driver_sql(pg.trigger_function_sql(str(here)))


def downgrade() -> None:
    """The function and the trigger function compute the same vectors either way: nothing to undo."""
