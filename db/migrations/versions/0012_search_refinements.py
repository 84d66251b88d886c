"""search: short prefixes read from the index (SQLite), the same letters folded on both databases

SQLite: the FTS5 table is made again with ``prefix='1 2'`` (the first one and two letters of
every word are indexed too: ``k*`` no longer merges the lists of every word starting with k), with
triggers that leave pending messages to the backfill; every message is marked pending and indexed
after the migration in short batches by the server (``db/search/sqlite.py``). PostgreSQL:
``parley_search_text`` no longer lets ``unaccent`` fold the letters SQLite keeps (ß, æ, ø, ...),
and the few rows that hold one are computed again by the server's backfill; a generated column
(0008's first layout, whose ``ALTER TABLE`` locked the table while it computed every row) becomes
the column kept by a trigger, every row pending.

The SQL is this revision's own, frozen as it stood when the revision last changed what it does
(commit 1d58d7b): 0015 changes the function and the trigger function, not this revision.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: the FTS5 table with short prefixes, its view, the pending range and the triggers that
# leave pending rows to the server's backfill, made again whatever an earlier layout left.
PENDING = "NOT EXISTS (SELECT 1 FROM search_backfill p WHERE {0}.id > p.done AND {0}.id <= p.below)"
SQLITE_REMAKE = (
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TABLE IF EXISTS messages_fts",
    "DROP VIEW IF EXISTS messages_live",
    "DROP TABLE IF EXISTS search_backfill",
    "CREATE VIEW messages_live AS SELECT id, body FROM messages WHERE deleted_at IS NULL",
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages_live', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2', prefix='1 2')",
    "CREATE TABLE search_backfill ("
    "id INTEGER PRIMARY KEY CHECK (id = 1), below INTEGER NOT NULL, done INTEGER NOT NULL)",
    "INSERT INTO search_backfill (id, below, done) SELECT 1, max(id), 0 FROM messages HAVING max(id) > 0",
    f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.deleted_at IS NULL AND {PENDING.format("new")} BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END""",
    f"""CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted_at ON messages
WHEN {PENDING.format("old")} BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.deleted_at IS NULL;
END""",
    f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.deleted_at IS NULL AND {PENDING.format("old")} BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END""",
)

# PostgreSQL: the function that hides the letters FTS5 keeps from ``unaccent`` (swapped for
# private-use characters and back), and the column kept by a trigger (every row pending).
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


POSTGRES_MAKE_COLUMN = (
    "DROP TRIGGER IF EXISTS messages_search ON messages",
    "DROP FUNCTION IF EXISTS parley_search_vector()",
    "DROP INDEX IF EXISTS ix_messages_search",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search",
    "ALTER TABLE messages ADD COLUMN search tsvector",
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
    "CREATE INDEX ix_messages_search ON messages USING gin (search)",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        made = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").scalar()
        if made is None or "prefix='1 2'" not in made:  # else 0008 made this layout
            for statement in SQLITE_REMAKE:
                bind.exec_driver_sql(statement)
        return
    installed = "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    schema = bind.exec_driver_sql(f"{installed} WHERE e.extname = 'unaccent'").scalar_one()
    bind.exec_driver_sql(function_sql(str(schema)))
    generated = bind.exec_driver_sql(
        "SELECT attgenerated::text FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attname = 'search'"
    ).scalar()
    if generated == "s":  # 0008's first layout: a generated column, remade as a kept one
        for statement in POSTGRES_MAKE_COLUMN:
            bind.exec_driver_sql(statement)
    else:  # rows an older function computed differently become pending again
        bind.exec_driver_sql(f"UPDATE messages SET search = NULL WHERE body ~ '[{KEPT}]'")


def downgrade() -> None:
    """What 0008 reads the same way stays (the prefix lists, the function)."""
