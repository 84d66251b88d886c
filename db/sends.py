"""The group-commit store: many new messages in ONE transaction with one hand-off.

The ORM path costs ~17 hand-offs to the database thread per message (aiosqlite
runs every statement, fetch and commit through its thread). A batch of sends
is instead stored by one call: on SQLite a plain ``sqlite3`` connection owned
by one writer thread runs ``BEGIN IMMEDIATE``, the ``seq`` bumps, the inserts
and the commit in one go; on PostgreSQL one statement (a CTE over
``unnest(...)`` arrays) does the same in one round trip, atomically.

For each row the result is the stored ``(id, seq)``, or ``None`` when the
sender already stored a message with that ``client_id`` (the caller returns
the original). Rows of one topic get consecutive ``seq`` values in the order
given. Any exception means nothing of the batch was stored.

Both databases run one logic (``BatchSteps``); each gives only its statements. A batch is: the
``client_id``s taken before, the files' claims, the insert of the messages, then the steps after
the insert (``BatchSteps.AFTER_INSERT``), each once over the batch's stored rows: files attached,
mention rows, pin changes, the rows written with each message, thread summaries. A batch of plain
messages (the common case) runs no step: on PostgreSQL still one statement.

Files (PROTOCOL.md section 11) are attached in the same transaction: a row's
``files`` must still be the sender's and unattached when the transaction
checks them (SQLite: under ``BEGIN IMMEDIATE``; PostgreSQL: their rows locked
``FOR UPDATE``), and no earlier row of the batch may claim one of them; else
that row alone is ``Refused`` (nothing of it stored, no ``seq`` taken) and the
rest of the batch goes on.

Rows written with a message (``NewMessage.with_rows``; today the outgoing webhooks' deliveries,
PROTOCOL.md section 12) are made once the message has its id and ``seq`` (inside the
transaction) and inserted with one statement per kind of row for the batch (``WITH_ROWS`` says
how each kind is inserted); a resend that stores nothing makes none.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

import orjson
from sqlalchemy.engine import make_url

from db.engine import SQLITE_PRAGMAS, is_sqlite
from db.extras import files_json, links_json, names_json, quote_json, system_json
from db.records import PLAIN, Extras, NotifyJobRow, OutboxRow

T = TypeVar("T")


@dataclass(frozen=True)
class PinChange:
    """A pin or unpin stored with the system message that records it."""

    message_id: int
    pinned: bool
    by: int


@dataclass(frozen=True)
class Stored:
    id: int
    seq: int


Rows = Callable[[Stored], Sequence[Any]]
"""The rows to write with a message, made once it is stored (inside the transaction): each of a
kind ``WITH_ROWS`` knows."""


PLAIN_SHAPE, LINKED_SHAPE, FULL_SHAPE = 0, 1, 2
"""A new message's columns: the six of a plain one; those and ``links``; all of them."""


@dataclass(frozen=True)
class NewMessage:
    topic_id: int
    sender_id: int
    body: str
    client_id: str | None
    created_at: datetime
    extras: Extras = PLAIN  # reply, thread, mentions, type and system of the new message
    mentioned: tuple[int, ...] = ()  # the members it mentions by name (a mention row each)
    pin: PinChange | None = None
    files: tuple[str, ...] = ()  # ids of the sender's unattached files to attach (section 11)
    with_rows: tuple[Rows, ...] = ()  # rows written with this message (its webhooks' deliveries)

    @property
    def plain(self) -> bool:
        return self.extras is PLAIN and self.pin is None and not self.files

    @property
    def linked(self) -> bool:
        """Plain but for its links (PROTOCOL.md section 13; most messages with a link): inserted
        with the plain columns and ``links``, and no step after the insert is about it."""
        extras = self.extras
        return (
            extras is not PLAIN
            and bool(extras.links)
            and extras.reply_to is None
            and extras.thread_root_id is None
            and not extras.mentions
            and not extras.mentions_all
            and extras.type == "text"
            and extras.system is None
            and not extras.bot
            and not extras.files
            and self.pin is None
            and not self.files
        )

    @property
    def shape(self) -> int:
        """``PLAIN_SHAPE``, ``LINKED_SHAPE`` or ``FULL_SHAPE``: which columns its insert has."""
        return PLAIN_SHAPE if self.plain else LINKED_SHAPE if self.linked else FULL_SHAPE

    def columns(self) -> tuple[Any, ...]:
        """The conversation columns of the insert, in ``EXTRA_INSERT`` order."""
        extras = self.extras
        quote = extras.reply_to
        return (
            quote.id if quote is not None else None,
            quote_json(quote),
            extras.thread_root_id,
            names_json(extras.mentions),
            extras.mentions_all,
            extras.type,
            system_json(extras.system),
            extras.bot,
            files_json(extras.files),
            links_json(extras.links),
        )


def new_message(
    topic_id: int,
    sender_id: int,
    body: str,
    client_id: str | None,
    created_at: datetime,
    extras: Extras,
    mentioned: tuple[int, ...],
    pin: PinChange | None,
    files: tuple[str, ...],
    with_rows: tuple[Rows, ...],
) -> NewMessage:
    """``NewMessage(...)`` with every field given, for the writer (one per send) at a third of the
    constructor's cost: a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__`` (1.6 us for these ten, about 10,000 instructions of every send); this
    fills the instance's ``__dict__`` in one step. tests/db/test_sends.py holds it equal."""
    row: NewMessage = object.__new__(NewMessage)
    row.__dict__.update(
        topic_id=topic_id,
        sender_id=sender_id,
        body=body,
        client_id=client_id,
        created_at=created_at,
        extras=extras,
        mentioned=mentioned,
        pin=pin,
        files=files,
        with_rows=with_rows,
    )
    return row


EXTRA_INSERT = (
    "reply_to_id, reply_to, thread_root_id, mentions, mentions_all, type, system, bot, files, links"
)


@dataclass(frozen=True)
class Refused:
    """A row not stored: one of its files is not the sender's, is attached already, or is gone."""

    reason: str


FILES_REFUSED = Refused("each file must be one of yours, uploaded and not attached to a message yet")

Outcome = Stored | Refused | None
"""A stored row; ``Refused``; or None: the sender's ``client_id`` was already taken."""


@dataclass(frozen=True)
class RowKind:
    """How a kind of row written with a message is inserted: the statement (placeholders ``{0}``,
    ``{1}``, ...) and the values of one row (times as ``datetime``)."""

    insert: str
    values: Callable[[Any], tuple[Any, ...]]


OUTBOX_INSERT = (
    "INSERT INTO webhook_outbox (id, webhook_id, event, body, trigger_message_id, attempts, next_at,"
    " status, created_at) VALUES ({0}, {1}, {2}, {3}, {4}, 0, {5}, 'pending', {6})"
)


def _outbox_values(r: OutboxRow) -> tuple[Any, ...]:
    return (r.id, r.webhook_id, r.event, r.body, r.trigger_message_id, r.created_at, r.created_at)


NOTIFY_JOB_INSERT = "INSERT INTO notify_jobs (message_id, due_at, attempts) VALUES ({0}, {1}, 0)"


def _notify_job_values(r: NotifyJobRow) -> tuple[Any, ...]:
    return (r.message_id, r.due_at)


WITH_ROWS: dict[type, RowKind] = {
    OutboxRow: RowKind(OUTBOX_INSERT, _outbox_values),
    NotifyJobRow: RowKind(NOTIFY_JOB_INSERT, _notify_job_values),
}
"""The kinds of row a message may carry (``NewMessage.with_rows``)."""


class SendStore(Protocol):
    async def store(self, rows: Sequence[NewMessage]) -> list[Outcome]: ...

    async def answers(self, within: float) -> bool: ...

    async def close(self) -> None: ...


def send_store_for(url: str) -> SendStore:
    """The batch store for a database URL (SQLite file or PostgreSQL)."""
    if is_sqlite(url):
        return SqliteSendStore(make_url(url).database or ":memory:")
    from db.sends_postgres import PostgresSendStore  # here: asyncpg is for PostgreSQL deployments only

    return PostgresSendStore(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


# A thread's summary on its root, from its replies that are not deleted (both databases; the
# ORM's twin is ``MessageRepository.refresh_thread``): count, newest time, the last 10 repliers.
THREAD_COUNT = (
    "SELECT count(*), max(created_at) FROM messages WHERE thread_root_id = {0} AND deleted_at IS NULL"
)
THREAD_REPLIERS = (
    "SELECT u.username FROM messages g JOIN users u ON u.id = g.sender_id"
    " WHERE g.thread_root_id = {0} AND g.deleted_at IS NULL"
    " GROUP BY u.id, u.username ORDER BY max(g.id) DESC LIMIT 10"
)
THREAD_UPDATE = (
    "UPDATE messages SET thread_count = {0}, thread_last_at = {1}, thread_participants = {2} WHERE id = {3}"
)


@dataclass(frozen=True)
class Statements:
    """A dialect's statements for the steps after the insert."""

    mention: str  # (message_id, user_id, topic_id, seq): a mention row, ignored if there
    pin: str  # (topic_id, message_id, pinned_by, pinned_at): ignored if pinned already
    unpin: str  # (topic_id, message_id)
    pinned: str  # (pinned, message_id): the flag on the message
    thread_count: str  # (root,)
    thread_repliers: str  # (root,)
    thread_update: str  # (count, last_at, participants, root)


def statements(marks: list[str]) -> Statements:
    """The statements with a dialect's placeholders for the first four parameters."""
    a, b, c, d = marks
    return Statements(
        mention=f"INSERT INTO mentions (message_id, user_id, topic_id, seq) VALUES ({a}, {b}, {c}, {d})"
        " ON CONFLICT DO NOTHING",
        pin=f"INSERT INTO pins (topic_id, message_id, pinned_by, pinned_at) VALUES ({a}, {b}, {c}, {d})"
        " ON CONFLICT DO NOTHING",
        unpin=f"DELETE FROM pins WHERE topic_id = {a} AND message_id = {b}",
        pinned=f"UPDATE messages SET pinned = {a} WHERE id = {b}",
        thread_count=THREAD_COUNT.format(a),
        thread_repliers=THREAD_REPLIERS.format(a),
        thread_update=THREAD_UPDATE.format(a, b, c, d),
    )


def _key(row: NewMessage) -> tuple[int, str] | None:
    return (row.sender_id, row.client_id) if row.client_id is not None else None


Stores = list[tuple[NewMessage, Stored]]  # rows of a batch that were stored, each with its id and seq


class BatchSteps(ABC):
    """One batch's logic, for both databases: a dialect gives the statements (``Statements``) and
    the few steps whose statements take another shape (``_taken``, ``_free_files``, ``_insert``,
    ``_attach``). Each step after the insert runs once per batch, over the stored rows that are
    not plain; a plain batch runs none.

    The SQLite dialect runs this on its writer thread: its statements are plain calls that never
    suspend, so one ``send`` runs the coroutine to its end (``_run_now``).
    """

    sql: ClassVar[Statements]
    dedupes_in_insert: ClassVar[bool]  # the insert skips a taken client_id itself

    async def _write(self, db: Any, rows: list[NewMessage]) -> list[Outcome]:
        """The batch in the open transaction: the outcome of each row."""
        keys = {
            key
            for row in rows
            if (key := _key(row)) is not None and (row.files or not self.dedupes_in_insert)
        }
        taken = await self._taken(db, list(keys)) if keys else set()
        refused = await self._claims(db, rows, taken)
        tried = [row for row, out in zip(rows, refused, strict=True) if not out and _key(row) not in taken]
        results = iter(await self._insert(db, tried))
        outcomes: list[Outcome] = [
            FILES_REFUSED if out else None if _key(row) in taken else next(results)
            for row, out in zip(rows, refused, strict=True)
        ]
        stored = [
            (row, outcome)
            for row, outcome in zip(rows, outcomes, strict=True)
            if isinstance(outcome, Stored) and (row.with_rows or row.shape == FULL_SHAPE)
        ]
        if stored:
            for step in AFTER_INSERT:
                await step(self, db, stored)
        return outcomes

    async def _claims(self, db: Any, rows: list[NewMessage], taken: set[tuple[int, str]]) -> list[bool]:
        """Per row: True when its files cannot be attached (checked inside the write transaction, so
        they stay as seen until the commit); an id claimed by an earlier row of the batch counts as
        attached. A row whose ``client_id`` is taken answers the original: not checked. Rows
        without files cost nothing here."""
        refused = [False] * len(rows)
        claimed: set[str] = set()
        for index, row in enumerate(rows):
            if not row.files or _key(row) in taken:
                continue
            if await self._free_files(db, row) != len(set(row.files)) or claimed.intersection(row.files):
                refused[index] = True
            else:
                claimed.update(row.files)
        return refused

    async def _attach_files(self, db: Any, stored: Stores) -> None:
        for row, at in stored:
            if row.files:
                await self._attach(db, row, at)

    async def _write_mentions(self, db: Any, stored: Stores) -> None:
        """One statement for the batch's mention rows."""
        mentions = [(at.id, user_id, row.topic_id, at.seq) for row, at in stored for user_id in row.mentioned]
        if mentions:
            await self._executemany(db, self.sql.mention, mentions)

    async def _change_pins(self, db: Any, stored: Stores) -> None:
        for row, _ in stored:
            pin = row.pin
            if pin is None:
                continue
            if pin.pinned:
                at = self._time(row.created_at)
                await self._execute(db, self.sql.pin, (row.topic_id, pin.message_id, pin.by, at))
            else:
                await self._execute(db, self.sql.unpin, (row.topic_id, pin.message_id))
            await self._execute(db, self.sql.pinned, (pin.pinned, pin.message_id))

    async def _write_rows(self, db: Any, stored: Stores) -> None:
        """The rows written with each message: one statement per kind of row for the batch."""
        kinds: dict[type, list[tuple[Any, ...]]] = {}
        for row, at in stored:
            for made in row.with_rows:
                for found in made(at):
                    values = WITH_ROWS[type(found)].values(found)
                    kinds.setdefault(type(found), []).append(tuple(map(self._value, values)))
        for kind, each in kinds.items():
            insert = WITH_ROWS[kind].insert.format(*self._marks(len(each[0])))
            await self._executemany(db, insert, each)

    async def _refresh_threads(self, db: Any, stored: Stores) -> None:
        """The summary of each thread root a reply of the batch went to."""
        roots = {root for row, _ in stored if (root := row.extras.thread_root_id) is not None}
        for root in roots:
            count, last_at = await self._fetchrow(db, self.sql.thread_count, (root,))
            names = [name for (name,) in await self._fetch(db, self.sql.thread_repliers, (root,))]
            await self._execute(db, self.sql.thread_update, (count, last_at, names_json(names), root))

    def _value(self, value: Any) -> Any:
        return self._time(value) if isinstance(value, datetime) else value

    # What each dialect gives: a statement each.

    @abstractmethod
    async def _taken(self, db: Any, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
        """The (sender, client_id) pairs of ``keys`` stored before."""

    @abstractmethod
    async def _free_files(self, db: Any, row: NewMessage) -> int:
        """How many of the row's files are the sender's and unattached (PostgreSQL: locked)."""

    @abstractmethod
    async def _insert(self, db: Any, rows: list[NewMessage]) -> list[Stored | None]:
        """Insert the messages in order, each with the next seq of its topic."""

    @abstractmethod
    async def _attach(self, db: Any, row: NewMessage, stored: Stored) -> None: ...

    @abstractmethod
    async def _execute(self, db: Any, sql: str, params: Sequence[Any]) -> None: ...

    @abstractmethod
    async def _executemany(self, db: Any, sql: str, rows: list[tuple[Any, ...]]) -> None: ...

    @abstractmethod
    async def _fetchrow(self, db: Any, sql: str, params: Sequence[Any]) -> Sequence[Any]: ...

    @abstractmethod
    async def _fetch(self, db: Any, sql: str, params: Sequence[Any]) -> list[Any]: ...

    @abstractmethod
    def _time(self, moment: datetime) -> Any: ...

    @abstractmethod
    def _marks(self, count: int) -> list[str]: ...


AFTER_INSERT: tuple[Callable[[BatchSteps, Any, Stores], Coroutine[Any, Any, None]], ...] = (
    BatchSteps._attach_files,
    BatchSteps._write_mentions,
    BatchSteps._change_pins,
    BatchSteps._write_rows,
    BatchSteps._refresh_threads,
)
"""The steps after the insert, in order (thread summaries last: they count the batch's replies)."""


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
    savepoint, about 35 us, however many rows it inserts, which one statement per row paid per
    message (bench: 49 -> 15 us of writer CPU per send). The ids come back in one row
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


PLAIN_COLUMNS = ("topic_id", "seq", "sender_id", "body", "client_id", "created_at")
EXTRA_COLUMNS = tuple(EXTRA_INSERT.split(", "))
COLUMNS_OF = {
    PLAIN_SHAPE: PLAIN_COLUMNS,
    LINKED_SHAPE: (*PLAIN_COLUMNS, "links"),
    FULL_SHAPE: (*PLAIN_COLUMNS, *EXTRA_COLUMNS),
}


def sqlite_time(moment: datetime) -> str:
    """UTC in SQLAlchemy's SQLite DATETIME storage format, so the ORM reads it back as written."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(" ", "microseconds")  # strftime's "%Y-%m-%d %H:%M:%S.%f", 3x faster
