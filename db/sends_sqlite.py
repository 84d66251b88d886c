"""The group-commit store on SQLite (``db/sends.py`` says what a batch is and does): one writer thread
with its own ``sqlite3`` connection runs a batch's statements under ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import Counter
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

from db.conversations.extras import links_json
from db.engine import SQLITE_PRAGMAS
from db.sends import (
    COLUMNS_OF,
    FULL_SHAPE,
    LINKED_SHAPE,
    BatchSteps,
    NewMessage,
    Outcome,
    Stored,
    statements,
)

T = TypeVar("T")


def _run_now(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never suspends (the SQLite steps: plain calls)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a SQLite step of the send batch suspended")


SQLITE = statements(["?"] * 4)


class SqliteSendStore(BatchSteps):
    """One writer thread with its own connection: a batch is one hand-off to it.

    ``sqlite3`` lets go of the GIL for every step of a statement (each result row too) and then
    takes it back from the event loop, which is busy serving sockets: on one core, a switch
    between the threads each time. So a batch runs few statements, and reads what they give back
    as one row each (``json_group_*``), not as a ``RETURNING`` row per message. With a busy loop
    on the same core: 32.6 -> 28.8 us of writer CPU per message (batches of 60, 100 topics).
    """

    sql = SQLITE
    dedupes_in_insert = False  # the seqs are counted from the rows to insert: each taken one is looked up

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-sends")
        self._local = threading.local()

    async def store(self, rows: Sequence[NewMessage]) -> list[Outcome]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._store, list(rows))

    async def answers(self, within: float) -> bool:  # noqa: ARG002 (nothing to wait for)
        """A local file always answers: its waits are this process's own queued writes."""
        return True

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None)
            for pragma in SQLITE_PRAGMAS:
                connection.execute(pragma)
            self._local.connection = connection
        return connection

    def _close(self) -> None:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _store(self, rows: list[NewMessage]) -> list[Outcome]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            outcomes = _run_now(self._write(db, rows))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return outcomes

    async def _taken(self, db: sqlite3.Connection, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
        """One statement for the batch (a ``VALUES`` list joined to the unique index, which SQLite
        walks once per pair) instead of one per row, about 1.3 us a row less; a row-value
        ``IN (VALUES ...)`` would scan the whole index."""
        taken: set[tuple[int, str]] = set()
        step = max(1, db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 2)
        for start in range(0, len(keys), step):
            chunk = keys[start : start + step]
            pairs = ", ".join(["(?, ?)"] * len(chunk))
            found = db.execute(
                f"SELECT m.sender_id, m.client_id FROM (VALUES {pairs}) AS v CROSS JOIN messages AS m"
                " ON m.sender_id = v.column1 AND m.client_id = v.column2",
                [value for key in chunk for value in key],
            )
            taken.update(found)
        return taken

    async def _free_files(self, db: sqlite3.Connection, row: NewMessage) -> int:
        marks = ", ".join("?" * len(row.files))
        (free,) = db.execute(
            f"SELECT count(*) FROM files WHERE id IN ({marks}) AND uploader_id = ? AND message_id IS NULL",
            (*row.files, row.sender_id),
        ).fetchone()
        return int(free)

    async def _insert(self, db: sqlite3.Connection, rows: list[NewMessage]) -> list[Stored | None]:
        next_seq = _sqlite_take_seqs(db, Counter(row.topic_id for row in rows))
        placed: list[tuple[NewMessage, int]] = []  # the rows to insert, each with its seq, in batch order
        for row in rows:
            placed.append((row, next_seq[row.topic_id]))
            next_seq[row.topic_id] += 1
        ids = _sqlite_insert_messages(db, placed)
        return [Stored(ids[row.topic_id, seq], seq) for row, seq in placed]

    async def _attach(self, db: sqlite3.Connection, row: NewMessage, stored: Stored) -> None:
        marks = ", ".join("?" * len(row.files))
        db.execute(
            f"UPDATE files SET message_id = ? WHERE id IN ({marks}) AND uploader_id = ?"
            " AND message_id IS NULL",
            (stored.id, *row.files, row.sender_id),
        )

    async def _execute(self, db: sqlite3.Connection, sql: str, params: Sequence[Any]) -> None:
        db.execute(sql, params)

    async def _executemany(self, db: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        db.executemany(sql, rows)

    async def _fetchrow(self, db: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Sequence[Any]:
        found: Sequence[Any] = db.execute(sql, params).fetchone()
        return found

    async def _fetch(self, db: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
        return db.execute(sql, params).fetchall()

    def _time(self, moment: datetime) -> str:
        return sqlite_time(moment)

    def _marks(self, count: int) -> list[str]:
        return ["?"] * count


def _sqlite_take_seqs(db: sqlite3.Connection, counts: Counter[int]) -> dict[int, int]:
    """Move each topic's ``last_seq`` on by its count of new rows; the first new seq of each.

    One ``UPDATE ... FROM (VALUES ...)`` for as many topics as the variable limit allows (two
    each), then one row that holds every topic's new ``last_seq`` (``json_group_object``), not a
    statement or a ``RETURNING`` row per topic: each step of a statement is a hand-back of the GIL
    to a loop that is busy serving sockets (see ``SqliteSendStore``).
    """
    first: dict[int, int] = {}
    topics = list(counts.items())
    step = max(1, db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 2)
    for start in range(0, len(topics), step):
        chunk = topics[start : start + step]
        pairs = ", ".join(["(?, ?)"] * len(chunk))
        db.execute(
            f"UPDATE topics SET last_seq = last_seq + v.column2 FROM (VALUES {pairs}) AS v"
            " WHERE topics.id = v.column1",
            [value for pair in chunk for value in pair],
        )
        (found,) = db.execute(
            f"SELECT json_group_object(id, last_seq) FROM topics WHERE id IN ({', '.join('?' * len(chunk))})",
            [topic_id for topic_id, _ in chunk],
        ).fetchone()
        for key, last in orjson.loads(found).items():
            first[int(key)] = last - counts[int(key)] + 1
    return first


def _sqlite_insert_messages(
    db: sqlite3.Connection, placed: list[tuple[NewMessage, int]]
) -> dict[tuple[int, int], int]:
    """Insert the rows, each with its seq, in as few statements as the variable limit allows; the
    id of each by (topic_id, seq).

    One multi-row ``INSERT`` per run of plain or linked (or of conversation) rows, in batch order so that
    ids follow it: a statement that writes the full-text index through its trigger costs one FTS5
    savepoint, about 35 us, however many rows it inserts: paid once per message, it made the writer's
    CPU per send about 49 us instead of 15. The ids come back in one row
    (``json_group_array`` of the rows above the largest id before), not a ``RETURNING`` row each:
    under ``BEGIN IMMEDIATE`` nothing else inserts messages meanwhile.
    """
    (before,) = db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()
    limit = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    start = 0
    shapes = [row.shape for row, _ in placed]
    fulls = [shape == FULL_SHAPE for shape in shapes]
    while start < len(placed):
        full = fulls[start]
        width = len(COLUMNS_OF[FULL_SHAPE if full else LINKED_SHAPE])
        end = start
        while end < len(placed) and fulls[end] == full and (end - start + 1) * width <= limit:
            end += 1
        run = placed[start:end]
        # Plain rows and linked ones: one statement (the plain ones' links NULL), as FTS5 prefers.
        shape = max(shapes[start:end])
        columns = COLUMNS_OF[shape]
        values: list[Any] = []
        for row, seq in run:
            values += (row.topic_id, seq, row.sender_id, row.body, row.client_id, sqlite_time(row.created_at))
            if shape == LINKED_SHAPE:
                values.append(links_json(row.extras.links))
            elif shape == FULL_SHAPE:
                values += row.columns()
        marks = "(" + ", ".join("?" * len(columns)) + ")"
        rows_sql = ", ".join([marks] * len(run))
        db.execute(f"INSERT INTO messages ({', '.join(columns)}) VALUES {rows_sql}", values)
        start = end
    (found,) = db.execute(
        "SELECT json_group_array(json_array(id, topic_id, seq)) FROM messages WHERE id > ?", (before,)
    ).fetchone()
    return {(topic_id, seq): message_id for message_id, topic_id, seq in orjson.loads(found)}


def sqlite_time(moment: datetime) -> str:
    """UTC in SQLAlchemy's SQLite DATETIME storage format, so the ORM reads it back as written."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(" ", "microseconds")  # strftime's "%Y-%m-%d %H:%M:%S.%f", 3x faster
