"""Search on SQLite: an external-content FTS5 table over ``messages.body``, kept by triggers.

``messages_fts`` holds no copy of the text (its content is the view ``messages_live``: the
messages that are not deleted): only its index, one row per such message, under its id. Triggers
keep it: an insert (the ORM's and the group-commit writer's plain SQL alike), an update of
``body`` or ``deleted_at`` (an edit, a deletion) and a delete (an operator deleting a topic). A
message is indexed exactly when it is not deleted, so what a trigger removes is always what was
indexed. Migrations that rebuild the ``messages`` table (Alembic's batch mode on SQLite) drop its
triggers: such a migration must run ``TRIGGERS`` again.

A query runs on a reader thread with its own connection (WAL: readers never wait for the writer),
one hand-off per search, as ``db/reads.py`` does. Terms become one FTS5 ``MATCH`` string in which
every token is a double-quoted string, so nothing the user typed is read as FTS5 syntax (``NEAR``,
``AND``, ``^``, column filters are words like any other).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from db.conversations.extras import extras_of
from db.conversations.records import MessageRecord
from db.engine import SQLITE_PRAGMAS
from db.search import SearchQuery, SearchRow, SearchUnavailable, Term
from db.search.sql import ORDER, SELECT, conditions, shown
from db.sends_sqlite import sqlite_time
from db.times import utc

T = TypeVar("T")

TOKENIZER = "unicode61 remove_diacritics 2"
# The content the index describes: the messages that are not deleted (FTS5 reads a hit's columns,
# and ``rebuild`` and ``integrity-check`` read the whole content, from this view).
CREATE_VIEW = "CREATE VIEW messages_live AS SELECT id, body FROM messages WHERE deleted_at IS NULL"
# ``prefix='1 2'``: the index also keeps every word's first one and first two letters, so that a
# short prefix (``k*``, ``pe*``) reads one list instead of merging the lists of every word it
# begins (at a million messages: 440 ms -> 1.5 ms for ``k*``, for an index about twice as large).
PREFIXES = "1 2"
CREATE_TABLE = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    f"body, content='messages_live', content_rowid='id', tokenize='{TOKENIZER}', prefix='{PREFIXES}')"
)
# Messages whose index entry is still to be written: ids in (done, below]. A migration or a
# reindex records the range and returns at once; ``SqliteSearch.backfill`` (started with the
# server, and run by ``parley search reindex``) indexes the range in batches, each its own short
# transaction, so a large table is never locked for long. The triggers leave rows of the range to
# the backfill (which reads their bodies as they are then): what a trigger removes from the index
# is always what was put in it. At most one row; none once the backfill has finished.
CREATE_PENDING = (
    "CREATE TABLE search_backfill ("
    "id INTEGER PRIMARY KEY CHECK (id = 1), below INTEGER NOT NULL, done INTEGER NOT NULL)"
)
PENDING = (
    "INSERT INTO search_backfill (id, below, done) SELECT 1, max(id), 0 FROM messages HAVING max(id) > 0"
)
_INDEXED = "NOT EXISTS (SELECT 1 FROM search_backfill p WHERE {0}.id > p.done AND {0}.id <= p.below)"
TRIGGERS = (
    f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.deleted_at IS NULL AND {_INDEXED.format("new")} BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END""",
    f"""CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted_at ON messages
WHEN {_INDEXED.format("old")} BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.deleted_at IS NULL;
END""",
    f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.deleted_at IS NULL AND {_INDEXED.format("old")} BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END""",
)
DROP = (
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TABLE IF EXISTS messages_fts",
    "DROP VIEW IF EXISTS messages_live",
    "DROP TABLE IF EXISTS search_backfill",
)
# One batch of the backfill: the live messages with ids in (low, high].
BACKFILL = (
    "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages"
    " WHERE id > ? AND id <= ? AND deleted_at IS NULL"
)
BATCH = 20_000
# Merge every segment into one: a 'delete' only adds a tombstone, the words stay in the segments
# written before until a merge rewrites them (with ``secure_delete`` the freed pages are zeroed).
OPTIMIZE = "INSERT INTO messages_fts (messages_fts) VALUES ('optimize')"
UNAVAILABLE = (
    "this SQLite ({version}) has no FTS5, which search needs: use a Python whose sqlite3 module is "
    "built with FTS5 (the official python.org and Debian/Ubuntu builds are), or PostgreSQL "
    "(PARLEY_DATABASE_URL)"
)


def fts5_available(db: sqlite3.Connection) -> bool:
    try:
        db.execute("CREATE VIRTUAL TABLE temp.parley_fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    db.execute("DROP TABLE temp.parley_fts5_probe")
    return True


def require_fts5(db: sqlite3.Connection) -> None:
    """Raise ``SearchUnavailable`` with what to do when this SQLite has no FTS5."""
    if not fts5_available(db):
        raise SearchUnavailable(UNAVAILABLE.format(version=sqlite3.sqlite_version))


def backfill_step(db: sqlite3.Connection, batch: int = BATCH) -> int | None:
    """Index the next ``batch`` ids of the pending range in one transaction; the ids covered, or
    None when nothing is pending."""
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT below, done FROM search_backfill").fetchone()
        if row is None:
            db.execute("COMMIT")
            return None
        below, done = int(row[0]), int(row[1])
        high = min(done + batch, below)
        db.execute(BACKFILL, (done, high))
        if high >= below:
            db.execute("DELETE FROM search_backfill")
        else:
            db.execute("UPDATE search_backfill SET done = ?", (high,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return high - done


def optimize(db: sqlite3.Connection) -> None:
    """Merge the index into one segment, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(OPTIMIZE)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def restart(db: sqlite3.Connection) -> None:
    """Make the index again, empty, and mark every message pending, in one transaction."""
    require_fts5(db)
    db.execute("BEGIN IMMEDIATE")
    try:
        remake(db.execute)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def remake(execute: Callable[[str], Any]) -> None:
    """The index's table, view and triggers as this module defines them (whatever an earlier
    layout left), empty, with every message pending (a migration's connection, or a thread's)."""
    for statement in DROP:
        execute(statement)
    execute(CREATE_VIEW)
    execute(CREATE_TABLE)
    execute(CREATE_PENDING)
    execute(PENDING)
    for trigger in TRIGGERS:
        execute(trigger)


def quoted(tokens: Sequence[str]) -> str:
    """An FTS5 string: double quotes around, a double quote inside doubled (tokens have none: the
    query parser keeps letters and digits only; this is the second lock on the door)."""
    return '"' + " ".join(token.replace('"', '""') for token in tokens) + '"'


def fts5_term(term: Term) -> str:
    return quoted(term.tokens) + (" *" if term.prefix else "")


def fts5_match(terms: Sequence[Term], joiner: str) -> str:
    return joiner.join(fts5_term(term) for term in terms)


class SqliteSearch:
    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-search")
        self._local = threading.local()
        self._used = False

    async def _run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        self._used = True
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._with_connection, job)

    def _with_connection(self, job: Callable[[sqlite3.Connection], T]) -> T:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None)
            for pragma in SQLITE_PRAGMAS:
                connection.execute(pragma)
            self._local.connection = connection
        return job(connection)

    async def check(self) -> None:
        await self._run(require_fts5)

    async def search(self, query: SearchQuery) -> list[SearchRow]:
        rows = await self._run(functools.partial(run_search, query=query))
        return [_row(row) for row in rows]

    @staticmethod
    def statement(query: SearchQuery, window: tuple[int, int] | None = None) -> tuple[str, dict[str, Any]]:
        """The query; ``window``: only the matches with ids in [low, high) (see ``run_search``)."""
        positive = [term for term in query.terms if not term.negated]
        negative = [term for term in query.terms if term.negated]
        params: dict[str, Any] = {"viewer": query.viewer, "limit": query.limit}
        match = exclude = None
        if positive:
            params["match"] = fts5_match(positive, " AND ")
            if negative:  # FTS5 leaves them out itself, driven by the positive terms
                params["match"] = f"({params['match']}) NOT ({fts5_match(negative, ' OR ')})"
            match = "g.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match)"
            if window is not None:
                params["low"], params["high"] = window
                match = (
                    "g.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match"
                    " AND rowid >= :low AND rowid < :high)"
                )
        if negative and not positive:  # newest first, each message looked up in the index
            params["exclude"] = fts5_match(negative, " OR ")
            exclude = (
                "NOT EXISTS (SELECT 1 FROM messages_fts f"
                " WHERE f.messages_fts MATCH :exclude AND f.rowid = g.id)"
            )
        if query.topic_id is not None:
            params["topic_id"] = query.topic_id
        if query.sender_id is not None:
            params["sender_id"] = query.sender_id
        if query.after is not None:
            params["after"] = sqlite_time(query.after)
        if query.before is not None:
            params["before"] = sqlite_time(query.before)
        if query.cursor is not None:
            params["cursor_at"] = sqlite_time(query.cursor[0])
            params["cursor_id"] = query.cursor[1]
        return shown(SELECT + conditions(query, match, exclude) + ORDER), params

    async def backfill(self, batch: int = BATCH) -> int:
        """Index what a migration or a reindex left pending, in batches (senders go on between
        them); the ids covered."""
        covered = 0
        while (step := await self._run(functools.partial(backfill_step, batch=batch))) is not None:
            covered += step
        return covered

    async def reindex(self) -> int:
        """Empty the index and fill it again in batches, each its own transaction (senders go on)."""
        await self._run(restart)
        await self.backfill()
        return await self._run(
            lambda db: int(db.execute("SELECT count(*) FROM messages WHERE deleted_at IS NULL").fetchone()[0])
        )

    async def size(self) -> int:
        def measure(db: sqlite3.Connection) -> int:
            try:
                row = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'messages_fts%'").fetchone()
            except sqlite3.OperationalError:  # no dbstat: count the index's pages of data
                row = db.execute("SELECT sum(length(block)) FROM messages_fts_data").fetchone()
            return int(row[0] or 0)

        return await self._run(measure)

    async def purge(self) -> None:
        await self._run(optimize)

    async def close(self) -> None:
        if self._used:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _close(self) -> None:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


# A query whose words match at least this many messages is first tried on a window of its newest
# matches (by id), since sorting every match by time costs ~3 us per match (a common word matches
# most of a million messages); fewer are simply all sorted.
MANY = 2000
WINDOWS = (8, 100, 1000)  # matches per window, times the limit, tried in turn before sorting them all
NO_ID = 2**63 - 1
COUNT = "SELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match LIMIT :many)"
WINDOW = (
    "SELECT min(rowid), count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match"
    " AND rowid < :high ORDER BY rowid DESC LIMIT :size)"
)
# The newest message sorting below (at, id): the window's end (exclusive, plus one).
HIGH = (
    "SELECT id FROM messages INDEXED BY ix_messages_created WHERE (created_at, id) < (:at, :id)"
    " ORDER BY created_at DESC, id DESC LIMIT 1"
)
# Is there a message outside the window [low, high) that sorts between the window's last result
# and the cursor? (Ids follow creation times on one writer, so almost never; when there is, the
# window's answer might be wrong and the query sorts every match instead.)
OUTSIDE = """SELECT 1 FROM messages g INDEXED BY ix_messages_created
WHERE (g.created_at, g.id) > (:last_at, :last_id) AND (g.created_at, g.id) < (:cursor_at, :cursor_id)
    AND (g.id < :low OR g.id >= :high) LIMIT 1"""


def run_search(db: sqlite3.Connection, query: SearchQuery) -> list[Any]:
    """The query's rows, newest first: over a window of its newest matches when that is provably
    the answer, else over every match."""
    sql, params = SqliteSearch.statement(query)
    if "match" not in params:
        return db.execute(sql, params).fetchall()
    many = db.execute(COUNT, {"match": params["match"], "many": MANY}).fetchone()[0]
    if many >= MANY:
        # The window ends at the cursor, or where ``before:`` ends (ids follow times, nearly).
        cursor_at, cursor_id = (
            (sqlite_time(query.cursor[0]), query.cursor[1]) if query.cursor else ("9999", NO_ID)
        )
        high = NO_ID
        if query.before is not None:
            cursor_at, cursor_id = min((cursor_at, cursor_id), (sqlite_time(query.before), 0))
        if cursor_id != NO_ID:
            below = db.execute(HIGH, {"at": cursor_at, "id": cursor_id}).fetchone()
            high = 0 if below is None else below[0] + 1
        for size in (query.limit * times for times in WINDOWS):
            low, found = db.execute(WINDOW, {"match": params["match"], "high": high, "size": size}).fetchone()
            if not found:
                break
            if found < size:
                low = 0  # every match below ``high`` is in the window
            windowed, window_params = SqliteSearch.statement(query, (low, high))
            rows = db.execute(windowed, window_params).fetchall()
            if len(rows) < query.limit:
                if found == size:
                    continue  # too few in this window: a wider one
                if high == NO_ID:
                    return rows  # the window holds every match there is
                break
            last_at, last_id = rows[-1][6], rows[-1][0]
            bounds = {"last_at": last_at, "last_id": last_id, "cursor_at": cursor_at, "cursor_id": cursor_id}
            if db.execute(OUTSIDE, {**bounds, "low": low, "high": high}).fetchone() is None:
                return rows
            break
    return db.execute(sql, params).fetchall()


def _row(row: Sequence[Any]) -> SearchRow:
    message = MessageRecord(
        id=row[0],
        topic_id=row[1],
        seq=row[2],
        sender_id=row[3],
        body=row[4],
        client_id=row[5],
        created_at=utc(row[6]),
        edited_at=utc(row[7]) if row[7] is not None else None,
        extras=extras_of(row[12:]),
    )
    return SearchRow(message, row[8], row[9], row[10], row[11])
