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

Rows written with a message (``NewMessage.with_rows``: a send hook's, such as an outgoing
webhook's delivery) are made once the message has its id and ``seq`` (inside the transaction) and
inserted with one statement per kind of row for the batch (``WITH_ROWS``, which each kind joins
from its own capability, says how); a resend that stores nothing makes none.

The dialects are apart: ``db/sends_sqlite.py`` and ``db/sends_postgres.py`` (which alone imports
asyncpg); ``db/uow.py`` picks one for a database URL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from db.conversations.extras import files_json, links_json, names_json, quote_json, system_json
from db.conversations.records import PLAIN, Extras
from db.conversations.threads import THREAD_COUNT, THREAD_REPLIERS, THREAD_UPDATE
from db.send_rows import WITH_ROWS


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


class SendStore(Protocol):
    async def store(self, rows: Sequence[NewMessage]) -> list[Outcome]: ...

    async def answers(self, within: float) -> bool: ...

    async def close(self) -> None: ...


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


PLAIN_COLUMNS = ("topic_id", "seq", "sender_id", "body", "client_id", "created_at")
EXTRA_COLUMNS = tuple(EXTRA_INSERT.split(", "))
COLUMNS_OF = {
    PLAIN_SHAPE: PLAIN_COLUMNS,
    LINKED_SHAPE: (*PLAIN_COLUMNS, "links"),
    FULL_SHAPE: (*PLAIN_COLUMNS, *EXTRA_COLUMNS),
}
