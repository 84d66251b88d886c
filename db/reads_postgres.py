"""The hot reads on PostgreSQL, on asyncpg directly (``db/reads.py`` says which and why).

Apart from ``db.reads`` so that a SQLite deployment never imports asyncpg: about 50-70 ms of every
start (``python -X importtime``). ``db.uow.hot_reads_for`` imports this module, once,
when the database is PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from db.reads import (
    BACKLOG_COLUMNS,
    SQL_AVAILABILITY,
    SQL_BACKLOG,
    SQL_CREDENTIALS,
    SQL_OPENINGS,
    SQL_PARTNERS,
    DirectReads,
    Row,
)

SQL_REPLAY_POSTGRES = (
    BACKLOG_COLUMNS
    + """JOIN messages g ON g.topic_id = t.id AND g.seq > t.last_seq - ?2
JOIN users s ON s.id = g.sender_id
WHERE m.user_id = ?1 AND g.deleted_at IS NULL AND (g.id > ?3 OR g.created_at >
    (SELECT a.created_at - make_interval(secs => ?4) FROM messages a WHERE a.id = ?3))
ORDER BY g.topic_id, g.seq
"""
)
# The backlogs of a batch of users, in a plan that cannot depend on the statistics: each user's
# memberships (``ix_memberships_user_id``), then each membership's messages (``uq_messages_topic_seq``),
# each a LATERAL subquery behind ``OFFSET 0``, which the planner does not pull up into a join it
# may order or hash as it likes. SQLite's form joined memberships and messages
# freely, and PostgreSQL's plan for it, made while the tables' statistics still described them
# small (a bulk of new users not analyzed yet), read every message and then every member of its
# topic: 12-15 ms a statement for ten users of a 50,000-member topic (auto_explain, bench.workers
# at 25,000 sockets), the PostgreSQL CPU per connect growing with the members.
SQL_BACKLOGS_POSTGRES = (
    "SELECT m.user_id, "
    + BACKLOG_COLUMNS.replace("?1", "m.user_id")
    .split("SELECT ", 1)[1]
    .replace(
        "FROM memberships m\n",
        "FROM (SELECT DISTINCT unnest(?1::bigint[]) AS user_id) AS batch\n"
        "CROSS JOIN LATERAL (SELECT * FROM memberships n WHERE n.user_id = batch.user_id OFFSET 0) m\n",
    )
    + """CROSS JOIN LATERAL (
    SELECT * FROM messages x
    WHERE x.topic_id = m.topic_id AND x.seq > GREATEST(m.delivered_seq, t.last_seq - ?2)
        AND x.deleted_at IS NULL
    OFFSET 0
) g
JOIN users s ON s.id = g.sender_id
ORDER BY m.user_id, g.topic_id, g.seq
"""
)
# The members as two arrays in one row: asyncpg decodes an array in C, where 10,000 rows cost
# a Record each and a Python step to read (about a third of the answer's time).
SQL_TOPIC_MEMBERS_POSTGRES = (
    "SELECT t.kind, array_agg(m.user_id) FILTER (WHERE m.user_id IS NOT NULL),"
    " array_agg(u.username) FILTER (WHERE m.user_id IS NOT NULL) FROM topics t"
    " LEFT JOIN memberships m ON m.topic_id = t.id LEFT JOIN users u ON u.id = m.user_id"
    " WHERE t.name_key = $1 GROUP BY t.id, t.kind"
)
POOL_SIZE = 4  # PostgreSQL connections of the hot reads, per process
# A PostgreSQL that hangs (paused, a partition) must not hold a connecting client for ever: a read
# is bounded (they take milliseconds) and so is opening a connection; a read cut short is not
# tried again (the server did not drop the connection, it did not answer).
READ_TIMEOUT, CONNECT_TIMEOUT = 5.0, 5.0
# What a read on a connection the server dropped raises (asyncpg 0.32): tried again, on another.
DROPPED = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InternalClientError,
    OSError,
)


def _postgres(sql: str) -> str:
    """The statement with PostgreSQL's placeholders: ``?N`` is ``$N``, a lone ``?`` is ``$1``."""
    return re.sub(r"\?(\d*)", lambda match: "$" + (match.group(1) or "1"), sql)


_POSTGRES = {
    sql: _postgres(sql)
    for sql in (SQL_CREDENTIALS, SQL_AVAILABILITY, SQL_PARTNERS, SQL_TOPIC_MEMBERS_POSTGRES)
}


class PostgresReads(DirectReads[asyncpg.Pool]):
    """The hot reads on asyncpg directly, as the sends are (``db/sends.py``), from a small pool of
    their own: through a SQLAlchemy session each read cost about a millisecond of CPU, four of
    them 4-4.8 ms per connect (``bench.sessions --database postgresql+asyncpg://...``). asyncpg
    prepares each statement once per connection."""

    backlog_sql = _postgres(SQL_BACKLOG.replace("max(m.delivered_seq,", "GREATEST(m.delivered_seq,"))
    backlogs_sql = _postgres(SQL_BACKLOGS_POSTGRES)
    replay_sql = _postgres(SQL_REPLAY_POSTGRES)
    openings_sql = _postgres(
        SQL_OPENINGS.replace("IN (SELECT value FROM json_each(?1))", "= ANY(?1::bigint[])")
    )

    def __init__(self, dsn: str, size: int = POOL_SIZE) -> None:
        super().__init__()
        self.dsn = dsn
        self.size = size

    async def _rows(self, sql: str, parameters: tuple[Any, ...]) -> Iterable[Row]:
        pool = self._connection or await self._open()
        statement = _POSTGRES.get(sql) or _postgres(sql)
        if self.on_statement is not None:
            self.on_statement(statement)
        for attempt in range(self.size + 1):
            try:
                rows: list[Row] = await pool.fetch(statement, *parameters)
                return rows
            except DROPPED as exc:
                # The server ended that connection (a restart, a failover, an operator): the pool
                # replaces it, and a read runs again safely, as SQLAlchemy's pre-ping let it.
                if attempt == self.size or isinstance(exc, TimeoutError):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _id_list(self, user_ids: Sequence[int]) -> Any:
        return [int(user_id) for user_id in user_ids]  # a bigint[]: asyncpg encodes a list in C

    async def topic_members(self, name: str) -> tuple[str, list[int], list[str]] | None:
        for kind, ids, names in await self._rows(SQL_TOPIC_MEMBERS_POSTGRES, (name.lower(),)):
            return str(kind), list(ids or ()), list(names or ())
        return None

    async def _connect(self) -> asyncpg.Pool:
        # No floor: asyncpg restores one in a task of its own that logs a traceback per try and
        # backs off up to a minute while the database is down; each read opens what it lacks.
        pool = await asyncpg.create_pool(
            self.dsn,
            min_size=0,
            max_size=self.size,
            timeout=CONNECT_TIMEOUT,
            command_timeout=READ_TIMEOUT,
            reset=_kept,
        )
        self._connection = pool
        return pool

    async def _close(self, connection: asyncpg.Pool) -> None:
        await connection.close()


async def _kept(connection: asyncpg.Connection) -> None:
    """A read's connection goes back to the pool as it is. asyncpg's default resets it on every
    release (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``: a round trip and the
    server's work), which these reads never need: one statement each, outside a transaction (one
    left open is still rolled back by the pool), no cursor, listener, setting or lock. It was a
    sixth of a worker's CPU in a connect storm (five reads a connect), and PostgreSQL's too."""
