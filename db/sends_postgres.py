"""The group-commit store on PostgreSQL (``db/sends.py`` says what a batch is and does).

Apart from ``db.sends`` so that a SQLite deployment never imports asyncpg: about 50-70 ms of every
start (``python -X importtime``). ``db.uow.send_store_for`` imports this module, once,
when the database is PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from db.conversations.extras import links_json
from db.sends import (
    EXTRA_COLUMNS,
    EXTRA_INSERT,
    FULL_SHAPE,
    LINKED_SHAPE,
    PLAIN_SHAPE,
    BatchSteps,
    NewMessage,
    Outcome,
    Stored,
    statements,
)


# One statement, so one round trip and its own transaction: skip rows whose client_id the
# sender already used, bump each topic's last_seq by its number of rows (the row lock orders
# concurrent writers), number the rows from the old value, insert, and say which row got what.
def _postgres_batch(shape: int) -> str:
    """The batch statement for rows of ``shape`` at most: with the conversation columns
    (``EXTRA_INSERT``), or for plain rows only their six arrays and the table's defaults fill the
    rest (the same row: a plain message's extras are those defaults), which PostgreSQL unpacks and
    asyncpg encodes in less time; linked rows (and plain ones) add ``links``."""
    arrays = "$1::int[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::int[]"
    names = "topic_id, sender_id, body, client_id, created_at, ord"
    columns = "topic_id, seq, sender_id, body, client_id, created_at"
    if shape == LINKED_SHAPE:
        arrays += ", $7::text[]"
        names += ", links"
        columns += ", links"
    elif shape == FULL_SHAPE:
        arrays += ", $7::bigint[], $8::text[], $9::bigint[], $10::text[], $11::bool[], $12::text[]"
        arrays += ", $13::text[], $14::bool[], $15::text[], $16::text[]"
        names += f", {EXTRA_INSERT}"
        columns += f", {EXTRA_INSERT}"
    return f"""
WITH req AS (
    SELECT * FROM unnest({arrays}) AS r({names})
), fresh AS (
    SELECT r.* FROM req r
    WHERE r.client_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM messages m WHERE m.sender_id = r.sender_id AND m.client_id = r.client_id)
), counts AS (
    SELECT topic_id, count(*)::int AS n FROM fresh GROUP BY topic_id
), bumped AS (
    UPDATE topics t SET last_seq = t.last_seq + c.n FROM counts c WHERE t.id = c.topic_id
    RETURNING t.id AS topic_id, t.last_seq - c.n AS base
), numbered AS (
    SELECT f.*, b.base + row_number() OVER (PARTITION BY f.topic_id ORDER BY f.ord) AS seq
    FROM fresh f JOIN bumped b USING (topic_id)
), inserted AS (
    INSERT INTO messages ({columns})
    SELECT {columns}
    FROM numbered
    RETURNING id, topic_id, seq
)
SELECT n.ord, i.id, i.seq FROM inserted i JOIN numbered n ON n.topic_id = i.topic_id AND n.seq = i.seq
"""


POSTGRES_BATCHES = {shape: _postgres_batch(shape) for shape in (PLAIN_SHAPE, LINKED_SHAPE, FULL_SHAPE)}


CLIENT_ID_UNIQUE = "uq_messages_sender_client"  # db/conversations/tables.py: (sender_id, client_id)
RESEND_RETRIES = 5
# A PostgreSQL that hangs (paused, a network partition) must not hold the writer, and so every
# send queued behind it, for ever: opening the connection and each try of a batch are bounded
# (a batch takes milliseconds). A try cut short may still have committed: its senders get an
# error and their client_id resend returns what was stored (PROTOCOL.md section 3).
STORE_TIMEOUT = 2.0


POSTGRES = statements(["$1", "$2", "$3", "$4"])


class PostgresSendStore(BatchSteps):
    """asyncpg directly: a batch of plain rows is one statement on one connection; with anything
    more, that statement and the steps after it in one transaction."""

    sql = POSTGRES
    dedupes_in_insert = True  # the batch statement answers a taken client_id (None) itself

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._connection: Any = None  # the batches'
        # The probes' own: the writer cancels a probe still running when the resolution it watched
        # ends and stores the batch at once, so a probe on the batches' connection could still be
        # mid-statement there ("another operation is in progress": a send answered ``internal``).
        self._probe: Any = None

    async def store(self, rows: Sequence[NewMessage]) -> list[Outcome]:
        if not rows:
            return []
        connection = await self._connect()
        return await self._fetch_batch(connection, list(rows))

    async def answers(self, within: float) -> bool:
        """Whether the server answers a trivial statement within ``within`` seconds, on a
        connection of the probes' own: never waiting behind the serving engine's pool, so a busy
        pool is not taken for a server that hangs, and never in a batch's way."""
        try:
            async with asyncio.timeout(within):
                if self._probe is None or self._probe.is_closed():
                    self._probe = await asyncpg.connect(self.dsn, timeout=STORE_TIMEOUT)
                await self._probe.fetchval("SELECT 1")
        except BaseException as exc:  # no answer, or cancelled mid-statement: a connection to drop
            probe, self._probe = self._probe, None
            if probe is not None:
                probe.terminate()
            if isinstance(exc, Exception):
                return False
            raise
        return True

    async def _attempt(self, connection: Any, rows: list[NewMessage]) -> list[Outcome]:
        """One try: the batch statement alone (plain rows), or in a transaction with its steps
        (files checked and locked first: a refused row is left out of the statement)."""
        shape = max(r.shape for r in rows)
        if shape != FULL_SHAPE and not any(r.with_rows for r in rows):
            arrays = _columns(rows, shape)
            return _outcomes(len(rows), await connection.fetch(POSTGRES_BATCHES[shape], *arrays))
        async with connection.transaction():
            return await self._write(connection, rows)

    async def _fetch_batch(self, connection: Any, rows: list[NewMessage]) -> list[Outcome]:
        """Run the batch; again when another node committed one of its client_ids meanwhile.

        The statement's ``NOT EXISTS`` sees what was committed when it began: a resend whose
        first copy another process is committing passes it, then waits on that row's unique
        index entry and fails once the other commits. Nothing of the batch was stored; run
        again, it sees the committed row and answers the original (``None``). Each retry
        follows a commit elsewhere, so few are needed; a limit keeps a bug from looping.
        """
        for attempt in range(RESEND_RETRIES + 1):
            try:
                async with asyncio.timeout(STORE_TIMEOUT):
                    return await self._attempt(connection, rows)
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name != CLIENT_ID_UNIQUE or attempt == RESEND_RETRIES:
                    await self._discard()
                    raise
            except BaseException:
                await self._discard()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _taken(self, db: Any, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
        found = await db.fetch(
            "SELECT m.sender_id, m.client_id FROM unnest($1::int[], $2::text[]) AS k(sender_id, client_id)"
            " JOIN messages m ON m.sender_id = k.sender_id AND m.client_id = k.client_id",
            [sender for sender, _ in keys],
            [client for _, client in keys],
        )
        return {(record[0], record[1]) for record in found}

    async def _free_files(self, db: Any, row: NewMessage) -> int:
        """Their rows are locked to the commit, so a concurrent send of the same file waits and
        then finds it attached."""
        free = await db.fetch(
            "SELECT id FROM files WHERE id = ANY($1::text[]) AND uploader_id = $2 AND message_id IS NULL"
            " ORDER BY id FOR UPDATE",
            list(row.files),
            row.sender_id,
        )
        return len(free)

    async def _insert(self, db: Any, rows: list[NewMessage]) -> list[Stored | None]:
        if not rows:
            return []
        shape = max(r.shape for r in rows)
        stored = _outcomes(len(rows), await db.fetch(POSTGRES_BATCHES[shape], *_columns(rows, shape)))
        return [outcome if isinstance(outcome, Stored) else None for outcome in stored]

    async def _attach(self, db: Any, row: NewMessage, stored: Stored) -> None:
        await db.execute(
            "UPDATE files SET message_id = $1 WHERE id = ANY($2::text[]) AND uploader_id = $3"
            " AND message_id IS NULL",
            stored.id,
            list(row.files),
            row.sender_id,
        )

    async def _execute(self, db: Any, sql: str, params: Sequence[Any]) -> None:
        await db.execute(sql, *params)

    async def _executemany(self, db: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        await db.executemany(sql, rows)

    async def _fetchrow(self, db: Any, sql: str, params: Sequence[Any]) -> Sequence[Any]:
        found: Sequence[Any] = await db.fetchrow(sql, *params)
        return found

    async def _fetch(self, db: Any, sql: str, params: Sequence[Any]) -> list[Any]:
        return list(await db.fetch(sql, *params))

    def _time(self, moment: datetime) -> datetime:
        return moment

    def _marks(self, count: int) -> list[str]:
        return [f"${n}" for n in range(1, count + 1)]

    async def _connect(self) -> Any:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(self.dsn, timeout=STORE_TIMEOUT)
        return self._connection

    async def _discard(self) -> None:
        """After a failure the connection's state is unknown: open a new one next time."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.terminate()

    async def close(self) -> None:
        for connection in (self._connection, self._probe):
            if connection is not None:
                await connection.close()
        self._connection = self._probe = None


def _columns(rows: list[NewMessage], shape: int = FULL_SHAPE) -> tuple[list[Any], ...]:
    """The batch statement's arrays, one per column, in the order of ``POSTGRES_BATCHES[shape]``."""
    plain = (
        [r.topic_id for r in rows],
        [r.sender_id for r in rows],
        [r.body for r in rows],
        [r.client_id for r in rows],
        [r.created_at for r in rows],
        list(range(len(rows))),
    )
    if shape == PLAIN_SHAPE:
        return plain
    if shape == LINKED_SHAPE:
        return (*plain, [links_json(r.extras.links) for r in rows])
    more = [r.columns() for r in rows]
    return (*plain, *([e[i] for e in more] for i in range(len(EXTRA_COLUMNS))))


def _outcomes(size: int, records: list[Any]) -> list[Outcome]:
    outcomes: list[Outcome] = [None] * size
    for record in records:
        outcomes[record["ord"]] = Stored(int(record["id"]), int(record["seq"]))
    return outcomes
