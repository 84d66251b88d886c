"""search: the full-text index of message bodies (PROTOCOL.md section 9)

SQLite: ``messages_fts``, an external-content FTS5 table (``unicode61 remove_diacritics 2``) over
the view ``messages_live`` (the messages not deleted) with three triggers on ``messages``; the
existing messages are recorded as pending (``search_backfill``) and indexed after the migration in
batches, each its own short transaction, by the server as it starts (``db/search/sqlite.py``), so
the migration never holds the database for long. It refuses, saying why, on an SQLite without
FTS5. PostgreSQL: the ``unaccent`` extension (created if missing; if it cannot be, the migration
says so), the immutable ``parley_search_text(body)``, the column ``messages.search`` kept by a
trigger and its GIN index (``db/search/postgres.py``); existing rows are left pending (``NULL``)
and computed after the migration in batches by the server, as on SQLite. Both: an index on ``messages (created_at, id)``, the order results
come in. ``parley search reindex`` rebuilds the index later.

The SQL is this revision's own, frozen as it stood when the revision last changed what it does
(commit 1d58d7b): later revisions change the function and the trigger (0012, 0015), not this one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.search import SearchUnavailable

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: FTS5 over the view of live messages, kept by triggers that leave pending rows to the
# server's backfill (``search_backfill``: ids in (done, below]).
SQLITE_UNAVAILABLE = (
    "this SQLite ({version}) has no FTS5, which search needs: use a Python whose sqlite3 module is "
    "built with FTS5 (the official python.org and Debian/Ubuntu builds are), or PostgreSQL "
    "(PARLEY_DATABASE_URL)"
)
SQLITE_CREATE = (
    "CREATE VIEW messages_live AS SELECT id, body FROM messages WHERE deleted_at IS NULL",
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "body, content='messages_live', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='1 2')",
    "CREATE TABLE search_backfill ("
    "id INTEGER PRIMARY KEY CHECK (id = 1), below INTEGER NOT NULL, done INTEGER NOT NULL)",
    # indexed after the migration, in batches (the server does it)
    "INSERT INTO search_backfill (id, below, done) SELECT 1, max(id), 0 FROM messages HAVING max(id) > 0",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM search_backfill p WHERE new.id > p.done AND new.id <= p.below) BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted_at ON messages
WHEN NOT EXISTS (SELECT 1 FROM search_backfill p WHERE old.id > p.done AND old.id <= p.below) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.deleted_at IS NULL;
END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM search_backfill p WHERE old.id > p.done AND old.id <= p.below) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TABLE IF EXISTS messages_fts",
    "DROP VIEW IF EXISTS messages_live",
    "DROP TABLE IF EXISTS search_backfill",
)

# PostgreSQL: ``parley_search_text`` over ``unaccent`` (sparing the letters FTS5 keeps: swapped for
# private-use characters and back), the column kept by a trigger (NULL: pending), its GIN index.
POSTGRES_UNAVAILABLE = (
    "search on PostgreSQL needs the unaccent extension, and it could not be created ({error}): "
    "install PostgreSQL's contrib package and let the migration's user run CREATE EXTENSION "
    "unaccent (or have a superuser run it once in this database)"
)
KEPT = "ßæðøþđħıĳĸłŉœŧẞÆÐØÞĐĦĲŁŒŦ"
STANDINS = "".join(chr(0xE000 + i) for i in range(len(KEPT)))


def function_sql(schema: str) -> str:
    source = f"translate(body, '{KEPT}', '{STANDINS}')"
    unaccented = f'"{schema}".unaccent(\'"{schema}".unaccent\'::regdictionary, {source})'
    return f"""
CREATE OR REPLACE FUNCTION parley_search_text(body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT regexp_replace(
        lower(translate({unaccented}, '{STANDINS}', '{KEPT}')), '[^[:alnum:]]+', ' ', 'g')
$$"""


POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS messages_search ON messages",
    "DROP FUNCTION IF EXISTS parley_search_vector()",
    "DROP INDEX IF EXISTS ix_messages_search",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search",
)
POSTGRES_CREATE = (
    "ALTER TABLE messages ADD COLUMN search tsvector",  # NULL: pending (instant to add)
    """
CREATE OR REPLACE FUNCTION parley_search_vector() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    NEW.search := to_tsvector('simple'::regconfig, parley_search_text(NEW.body));
    RETURN NEW;
END
$$""",
    "CREATE TRIGGER messages_search BEFORE INSERT OR UPDATE OF body ON messages"
    " FOR EACH ROW EXECUTE FUNCTION parley_search_vector()",
    "CREATE INDEX ix_messages_search ON messages USING gin (search)",  # built while the column is empty
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _sqlite_upgrade(bind)
    else:
        _postgres_upgrade(bind)
    op.create_index("ix_messages_created", "messages", ["created_at", "id"])


def _sqlite_upgrade(bind: sa.engine.Connection) -> None:
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.parley_fts5_probe USING fts5(x)")
    except sa.exc.OperationalError as exc:
        import sqlite3

        raise SearchUnavailable(SQLITE_UNAVAILABLE.format(version=sqlite3.sqlite_version)) from exc
    bind.exec_driver_sql("DROP TABLE temp.parley_fts5_probe")
    for statement in SQLITE_CREATE:
        bind.exec_driver_sql(statement)


def _postgres_upgrade(bind: sa.engine.Connection) -> None:
    installed = "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    schema = bind.exec_driver_sql(f"{installed} WHERE e.extname = 'unaccent'").scalar()
    if schema is None:
        try:
            with bind.begin_nested():
                bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        except sa.exc.DBAPIError as exc:
            raise SearchUnavailable(POSTGRES_UNAVAILABLE.format(error=str(exc.orig).strip())) from exc
        schema = bind.exec_driver_sql(f"{installed} WHERE e.extname = 'unaccent'").scalar_one()
    bind.exec_driver_sql(function_sql(str(schema)))
    for statement in (*POSTGRES_DROP, *POSTGRES_CREATE):  # existing rows pending: the server computes them
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    op.drop_index("ix_messages_created", table_name="messages")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            bind.exec_driver_sql(statement)
        return
    for statement in POSTGRES_DROP:
        bind.exec_driver_sql(statement)
    bind.exec_driver_sql("DROP FUNCTION IF EXISTS parley_search_text(text)")  # the extension stays: others may use it
