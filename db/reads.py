"""The reads every connection makes, each in one hand-off to the database.

Through SQLAlchemy's session on aiosqlite even ``SELECT 1`` costs ~0.7 ms of
CPU (a session, a pooled connection and about six thread hand-offs), and a
connect needs up to three such reads: the user behind the token with their topics and
availability, the partners told about presence (when the user is in a private topic or a direct
conversation), the backlog. They run here instead, straight
on the driver: on SQLite on aiosqlite's thread with a connection of their own
(WAL: readers never wait for the writer), one hand-off per read; on PostgreSQL
on asyncpg, from a small pool of their own. The same statements on both, but
for PostgreSQL's placeholders, ``GREATEST`` and its interval arithmetic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import aiosqlite

from db.accounts.records import Credentials
from db.connections.records import Opening
from db.conversations.extras import EXTRAS_COLUMNS, extras_of
from db.conversations.records import BacklogEntry
from db.engine import SQLITE_PRAGMAS
from db.times import utc


class HotReads(Protocol):
    async def credentials(self, user_id: int) -> Credentials | None: ...

    async def opening(self, user_id: int) -> Opening:
        """What a connection of the user needs, in one read: the credentials as ``credentials``
        reads them, (topic id, kind) of every membership, the availability as ``availability``."""
        ...

    async def openings(self, user_ids: Sequence[int]) -> dict[int, Opening]:
        """``opening`` for many users in one statement (the connects of one moment); a user that
        does not exist is absent."""
        ...

    async def availability(self, user_id: int) -> tuple[str, bool] | None:
        """The availability the user chose and whether they are idle (away from activity)."""
        ...

    async def partners(self, user_id: int) -> list[int]:
        """Users sharing a private topic or a direct conversation with ``user_id``."""
        ...

    async def backlog(self, user_id: int, cap: int) -> list[BacklogEntry]:
        """Live messages above the user's delivered seq among the newest ``cap`` of each topic."""
        ...

    async def backlogs(self, user_ids: Sequence[int], cap: int) -> dict[int, list[BacklogEntry]]:
        """``backlog`` for many users in one statement (a reconnect storm's users arriving together):
        each user's entries exactly as ``backlog`` returns them; a user with none is absent."""
        ...

    async def replay(self, user_id: int, after_id: int, margin: float, cap: int) -> list[BacklogEntry]:
        """Live messages with ``id > after_id`` or stored less than ``margin`` seconds before message
        ``after_id``, among the newest ``cap`` of each topic (a connection-state recovery)."""
        ...

    async def topic_members(self, name: str) -> tuple[str, list[int], list[str]] | None:
        """The kind of the topic named ``name`` (any case), its members' ids and their usernames
        (in the same order); None for no such topic. One statement: a topic of 10,000 members in a
        few milliseconds (the server API's presence, PROTOCOL.md section 17)."""
        ...

    async def close(self) -> None: ...


ENTRIES_KEPT = 2048  # backlog entries kept across reads: a storm's distinct missed messages

SQL_CREDENTIALS = (
    "SELECT id, username, token_version, disabled_at IS NULL AND deleted_at IS NULL, bot, tokens_revoked_at"
    " FROM users WHERE id = ?"
)
SQL_AVAILABILITY = "SELECT availability, idle FROM users WHERE id = ?"
# A row per membership (topic id and kind), each with the user's credentials and availability; one
# row of NULL topic for a user in no topic, none for no such user. Three reads before (the
# credentials, the memberships, the availability), a round trip each.
SQL_OPENINGS = (
    "SELECT u.id, u.username, u.token_version, u.disabled_at IS NULL AND u.deleted_at IS NULL, u.bot,"
    " u.tokens_revoked_at, u.availability, u.idle, t.id, t.kind FROM users u"
    " LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN topics t ON t.id = m.topic_id"
    " WHERE u.id IN (SELECT value FROM json_each(?1)) ORDER BY u.id, t.id"
)
SQL_PARTNERS = (
    "SELECT DISTINCT o.user_id FROM memberships o WHERE o.user_id != ?1 AND o.topic_id IN"
    " (SELECT m.topic_id FROM memberships m JOIN topics t ON t.id = m.topic_id"
    " WHERE m.user_id = ?1 AND t.kind != 'public')"
)
SQL_TOPIC_MEMBERS = (
    "SELECT t.kind, m.user_id, u.username FROM topics t"
    " LEFT JOIN memberships m ON m.topic_id = t.id LEFT JOIN users u ON u.id = m.user_id"
    " WHERE t.name_key = ?"
)
# seq is gapless per topic (deletions leave tombstones): the newest ``cap`` are seq > last_seq - cap.
BACKLOG_COLUMNS = (
    """
SELECT g.id, g.topic_id, g.seq, s.username, g.body, g.client_id, g.created_at, g.edited_at, t.name, t.kind,
    CASE WHEN t.kind = 'direct' THEN (
        SELECT u.username FROM memberships o JOIN users u ON u.id = o.user_id
        WHERE o.topic_id = t.id AND o.user_id != ?1 LIMIT 1) END,
    EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = ?1 AND b.blocked_id = g.sender_id), """
    + ", ".join(f"g.{name}" for name in EXTRAS_COLUMNS)
    + """
FROM memberships m
JOIN topics t ON t.id = m.topic_id
"""
)
SQL_BACKLOG = (
    BACKLOG_COLUMNS
    + """JOIN messages g ON g.topic_id = t.id AND g.seq > max(m.delivered_seq, t.last_seq - ?2)
JOIN users s ON s.id = g.sender_id
WHERE m.user_id = ?1 AND g.deleted_at IS NULL
ORDER BY g.topic_id, g.seq
"""
)
# The same for many users in one statement: ?1 is the users' ids (a JSON array on SQLite, an array
# on PostgreSQL), each row led by its user's id, the rows in (user, topic, seq) order. The viewer of
# the direct conversation's peer and of the block is each row's member, where one user's read names ?1.
SQL_BACKLOGS = (
    "SELECT m.user_id, "
    + BACKLOG_COLUMNS.replace("?1", "m.user_id").split("SELECT ", 1)[1]
    + """JOIN messages g ON g.topic_id = t.id AND g.seq > max(m.delivered_seq, t.last_seq - ?2)
JOIN users s ON s.id = g.sender_id
WHERE m.user_id IN (SELECT value FROM json_each(?1)) AND g.deleted_at IS NULL
ORDER BY m.user_id, g.topic_id, g.seq
"""
)
# julianday() compares the stored times exactly (both sides parsed alike), a margin of 0 included.
SQL_REPLAY = (
    BACKLOG_COLUMNS
    + """JOIN messages g ON g.topic_id = t.id AND g.seq > t.last_seq - ?2
JOIN users s ON s.id = g.sender_id
WHERE m.user_id = ?1 AND g.deleted_at IS NULL AND (g.id > ?3 OR julianday(g.created_at) >
    (SELECT julianday(a.created_at) - ?4 / 86400.0 FROM messages a WHERE a.id = ?3))
ORDER BY g.topic_id, g.seq
"""
)


Conn = TypeVar("Conn")
Row = Sequence[Any]


class DirectReads(Generic[Conn]):
    """The hot reads straight on the database's driver, on a connection (or pool) of their own,
    opened by the first read: once however many reads wait for it, and again by the next read
    after an open that failed (the reads waiting for that one get its error). ``close`` is final:
    a read still running at a server's stop (a handler the prompt stop did not wait for) is
    refused, instead of opening a connection that no one closes."""

    backlog_sql = ""
    backlogs_sql = ""
    replay_sql = ""
    openings_sql = ""

    def __init__(self) -> None:
        self._connection: Conn | None = None
        self._opening: asyncio.Task[Conn] | None = None
        self._closed = False
        self.on_statement: Callable[[str], None] | None = None  # observability (tests count reads)
        self._entries: dict[tuple[Any, ...], BacklogEntry] = {}  # ``backlogs``' rows made, by their columns

    async def _open(self) -> Conn:
        if self._closed:
            raise ConnectionAbortedError("the database's reads are closed: the server is stopping")
        opening = self._opening
        if opening is None or (opening.done() and (opening.cancelled() or opening.exception() is not None)):
            opening = self._opening = asyncio.ensure_future(self._connect())
        return await asyncio.shield(opening)

    async def _connect(self) -> Conn:
        raise NotImplementedError

    async def _rows(self, sql: str, parameters: tuple[Any, ...]) -> Iterable[Row]:
        raise NotImplementedError

    async def _close(self, connection: Conn) -> None:
        raise NotImplementedError

    async def credentials(self, user_id: int) -> Credentials | None:
        for row in await self._rows(SQL_CREDENTIALS, (user_id,)):
            return Credentials(row[0], row[1], row[2], bool(row[3]), bool(row[4]), utc(row[5]))
        return None

    async def availability(self, user_id: int) -> tuple[str, bool] | None:
        for row in await self._rows(SQL_AVAILABILITY, (user_id,)):
            return str(row[0]), bool(row[1])
        return None

    async def opening(self, user_id: int) -> Opening:
        return (await self.openings((user_id,))).get(user_id) or Opening(None, [], None)

    async def openings(self, user_ids: Sequence[int]) -> dict[int, Opening]:
        found: dict[int, Opening] = {}
        for row in await self._rows(self.openings_sql, (self._id_list(user_ids),)):
            opening = found.get(row[0])
            if opening is None:  # the user's first row (ordered by user): its credentials, availability
                credentials = Credentials(row[0], row[1], row[2], bool(row[3]), bool(row[4]), utc(row[5]))
                opening = found[row[0]] = Opening(credentials, [], (str(row[6]), bool(row[7])))
            if row[8] is not None:
                opening.topics.append((int(row[8]), str(row[9])))
        return found

    async def partners(self, user_id: int) -> list[int]:
        return [int(row[0]) for row in await self._rows(SQL_PARTNERS, (user_id,))]

    async def backlog(self, user_id: int, cap: int) -> list[BacklogEntry]:
        return [_entry(row) for row in await self._rows(self.backlog_sql, (user_id, cap))]

    async def backlogs(self, user_ids: Sequence[int], cap: int) -> dict[int, list[BacklogEntry]]:
        found: dict[int, list[BacklogEntry]] = {}
        # A reconnect storm's users of one topic read the same rows but for the user's id, in
        # batches of a few users each (a direct conversation's peer, a blocked sender and every
        # column shown are in the row): one entry per distinct row, kept for the next batches
        # while ENTRIES_KEPT are, and handed to each user; the service renders each entry once
        # (``DeliveryService``). An edit, a reaction or a rename changes the row: a new entry.
        made = self._entries
        for row in await self._rows(self.backlogs_sql, (self._id_list(user_ids), cap)):
            columns = tuple(row[1:])
            entry = made.get(columns)
            if entry is None:
                if len(made) >= ENTRIES_KEPT:
                    made.clear()
                entry = made[columns] = _entry(columns)
            found.setdefault(int(row[0]), []).append(entry)
        return found

    def _id_list(self, user_ids: Sequence[int]) -> Any:
        """The ids as the driver takes them for ``backlogs_sql``'s ?1 (SQLite: a JSON array)."""
        return "[" + ",".join(str(int(user_id)) for user_id in user_ids) + "]"

    async def replay(self, user_id: int, after_id: int, margin: float, cap: int) -> list[BacklogEntry]:
        return [_entry(row) for row in await self._rows(self.replay_sql, (user_id, cap, after_id, margin))]

    async def topic_members(self, name: str) -> tuple[str, list[int], list[str]] | None:
        rows = list(await self._rows(SQL_TOPIC_MEMBERS, (name.lower(),)))
        if not rows:
            return None
        members = [row for row in rows if row[1] is not None]
        return str(rows[0][0]), [int(row[1]) for row in members], [str(row[2]) for row in members]

    async def close(self) -> None:
        self._closed = True
        opening, self._opening, self._connection = self._opening, None, None
        if opening is None:
            return
        try:
            connection = await opening
        except Exception:  # it never opened: the read that tried has had the error
            return
        self._connection = None  # (an open that was under way as the close began has set it)
        await self._close(connection)


class SqliteReads(DirectReads[aiosqlite.Connection]):
    """The hot reads on one aiosqlite connection of their own.

    aiosqlite's thread takes each call from a queue and hands its rows back with one
    ``call_soon_threadsafe``: a read costs the loop a future and a queue put. Through
    ``run_in_executor`` it cost a concurrent future, the executor's lock and semaphore and two
    chained futures, about a third of the chat's own work per connect (py-spy of
    ``bench.sessions``). Each read is one ``execute_fetchall``: one hand-off.
    """

    backlog_sql = SQL_BACKLOG
    backlogs_sql = SQL_BACKLOGS
    replay_sql = SQL_REPLAY
    openings_sql = SQL_OPENINGS

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    async def _rows(self, sql: str, parameters: tuple[Any, ...]) -> Iterable[Row]:
        connection = self._connection or await self._open()
        return await connection.execute_fetchall(sql, parameters)

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            for pragma in SQLITE_PRAGMAS:
                await connection.execute_fetchall(pragma)
            await connection.set_trace_callback(self._trace)  # called in aiosqlite's thread
        except BaseException:
            await connection.close()  # its thread too: a thread left running keeps the process alive
            raise
        self._connection = connection
        return connection

    def _trace(self, statement: str) -> None:
        if self.on_statement is not None:
            self.on_statement(statement)

    async def _close(self, connection: aiosqlite.Connection) -> None:
        await connection.close()


def _entry(row: Sequence[Any]) -> BacklogEntry:
    return BacklogEntry(
        id=row[0],
        topic_id=row[1],
        seq=row[2],
        sender=row[3],
        body=row[4],
        client_id=row[5],
        created_at=utc(row[6]),
        edited_at=utc(row[7]) if row[7] is not None else None,
        topic_name=row[8],
        topic_kind=row[9],
        peer=row[10],
        extras=extras_of(row[12:]),
        blocked=bool(row[11]),
    )
