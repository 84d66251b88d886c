"""Search on PostgreSQL: a ``tsvector`` column kept by a trigger, with a GIN index.

``messages.search`` is ``to_tsvector('simple', parley_search_text(body))``: ``simple`` keeps every
word as it is (no stemming: "deploying" is not "deploy", PROTOCOL.md section 9), and
``parley_search_text`` (an immutable SQL function) unaccents with the ``unaccent`` extension
(sparing the letters FTS5 keeps), lower-cases, and turns every run of characters that are not
letters or digits into one space, so that words split where FTS5's ``unicode61`` splits them
(PostgreSQL's own parser would keep ``bob@example.com`` or ``1.2.3`` whole).

A trigger computes the column on every insert and every update of ``body``, in the statement that
writes the row (a message is searchable when its send is acknowledged). It is a plain column, not
a generated one, so that adding it to a large table is instant: a generated column is computed for
every row by the ``ALTER TABLE``, under a lock that stops every send (100 s at a million
messages). Rows written before the migration have ``NULL`` (pending) and are filled in by
``PostgresSearch.backfill`` in short batches, each its own transaction, which the server runs as
it starts.

A query is built from the parsed terms only: each term's tokens are bind parameters that go
through the same ``parley_search_text`` and become lexemes with ``phraseto_tsquery`` (a phrase:
one token after the other), a prefix becomes ``to_tsquery`` of ``quote_literal(lexeme) || ':*'``
(a quoted lexeme: nothing in it is syntax). The user's text is never parsed as a ``tsquery``.
A query restricted to one sender or one topic is first tried on windows of its newest messages
(``windowed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.conversations.extras import extras_of
from db.conversations.records import MessageRecord
from db.search import SearchQuery, SearchRow, Term
from db.search.sql import ORDER, SELECT, conditions, shown

FUNCTION = "parley_search_text"  # made by the migrations (0008, its letters 0012, its cost 0015)
VECTOR = f"to_tsvector('simple'::regconfig, {FUNCTION}(body))"  # the trigger's (0008, 0015)
# One batch of the backfill: the pending rows with ids in (low, high].
BACKFILL = f"UPDATE messages SET search = {VECTOR} WHERE id > :low AND id <= :high AND search IS NULL"
BATCH = 10_000


class Renderer:
    """Terms to a ``tsquery`` expression over bind parameters it names ``t0``, ``t1``, ..."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def _bind(self, value: str) -> str:
        name = f"t{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def phrase(self, tokens: Sequence[str]) -> str:
        return f"phraseto_tsquery('simple', {FUNCTION}({self._bind(' '.join(tokens))}))"

    def prefix(self, token: str) -> str:
        lexeme = f"btrim({FUNCTION}({self._bind(token)}))"
        return f"to_tsquery('simple', quote_literal({lexeme}) || ':*')"

    def term(self, term: Term) -> str:
        if not term.prefix:
            return self.phrase(term.tokens)
        last = self.prefix(term.tokens[-1])
        if len(term.tokens) == 1:
            return last
        return f"tsquery_phrase({self.phrase(term.tokens[:-1])}, {last})"

    def all_of(self, terms: Sequence[Term], operator: str) -> str:
        return "(" + f" {operator} ".join(self.term(term) for term in terms) + ")"


# ``from:`` and ``in:`` (PROTOCOL.md section 9). A common word is in ~10% of a million messages: its
# GIN bitmap alone costs ~26 ms, before it is ANDed with the sender's rows and every match sorted. A
# sender's or a topic's newest messages come in result order from their own index (migration 0013),
# so such a query first tests its conditions on a window of them: ``FIRST`` times the limit, then as
# many as the hits so far say are needed, twice over, up to ``LARGEST`` times the limit; it runs the
# plain query when no window provably holds the answer (``windowed``): what it matches is then rare
# among these messages, most often a rare word, whose bitmap is small (at a million messages the
# windows then add ~10 ms). The subquery's ``LIMIT`` keeps the planner from starting at the word's
# bitmap.
FIRST = 8
LARGEST = 100
# Deleted messages count in a window (the outer query leaves them out): its count then reads the
# index alone.
WINDOW = """
SELECT g.id FROM (
    SELECT w.* FROM messages w WHERE true{restriction}
    ORDER BY w.created_at DESC, w.id DESC LIMIT :window) g
JOIN topics t ON t.id = g.topic_id
WHERE g.deleted_at IS NULL
"""
# How many messages the window held (fewer than its size: every message of the restriction).
FILLED = """SELECT count(*) FROM (
    SELECT 1 FROM messages w WHERE true{restriction}
    ORDER BY w.created_at DESC, w.id DESC LIMIT :window) c"""


def walks(query: SearchQuery) -> bool:
    """Whether ``query`` is tried on windows first: one sender or one topic; not a mention or thread
    query, which starts from its few rows."""
    restricted = query.sender_id is not None or query.topic_id is not None
    return restricted and not query.mention and not query.thread


def restriction(query: SearchQuery) -> str:
    """The window's conditions: messages every hit is one of (the sender's, else the topic's, in the
    dates, below the cursor), newest first from one index. Not the sender's and the topic's both:
    the planner would AND the two indexes and sort (25 ms at a million messages); the topic is
    then tested with the other conditions."""
    parts = []
    if query.sender_id is not None:
        parts.append("w.sender_id = :sender_id")
    elif query.topic_id is not None:
        parts.append("w.topic_id = :topic_id")
    if query.after is not None:
        parts.append("w.created_at >= :after")
    if query.before is not None:
        parts.append("w.created_at < :before")
    if query.cursor is not None:
        parts.append("(w.created_at, w.id) < (:cursor_at, :cursor_id)")
    return "".join(f" AND {part}" for part in parts)


def statement(query: SearchQuery, window: int | None = None) -> tuple[str, dict[str, Any]]:
    """The query; ``window``: only among the newest ``window`` messages of its ``restriction``."""
    renderer = Renderer()
    positive = [term for term in query.terms if not term.negated]
    negative = [term for term in query.terms if term.negated]
    match = exclude = None
    if positive:
        match = f"g.search @@ {renderer.all_of(positive, '&&')}"
    if negative:
        exclude = f"NOT (g.search @@ {renderer.all_of(negative, '||')})"
    params: dict[str, Any] = {"viewer": query.viewer, "limit": query.limit, **renderer.params}
    for name in ("topic_id", "sender_id", "after", "before"):
        value = getattr(query, name)
        if value is not None:
            params[name] = value
    if query.cursor is not None:
        params["cursor_at"], params["cursor_id"] = query.cursor
    select = SELECT
    if window is not None:
        params["window"] = window
        select = WINDOW.format(restriction=restriction(query))
    return shown(select + conditions(query, match, exclude) + ORDER), params


class PostgresSearch:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def check(self) -> None:
        return None  # the migration made the column and the function, or failed saying why

    async def search(self, query: SearchQuery) -> list[SearchRow]:
        async with self.sessions() as session:
            rows = await windowed(session, query) if walks(query) else None
            if rows is None:
                sql, params = statement(query)
                rows = (await session.execute(text(sql), params)).all()
        return [_row(row) for row in rows]

    async def backfill(self, batch: int = BATCH) -> int:
        """Compute the pending rows' column, ``batch`` ids per transaction (senders go on between
        them); the rows computed."""
        async with self.sessions() as session:
            high = (await session.execute(text("SELECT coalesce(max(id), 0) FROM messages"))).scalar_one()
        done = 0
        for low in range(0, high, batch):
            async with self.sessions() as session, session.begin():
                result = await session.execute(text(BACKFILL), {"low": low, "high": min(low + batch, high)})
                done += int(result.rowcount)  # type: ignore[attr-defined]
        return done

    async def reindex(self) -> int:
        """Compute every row's column again, in batches, each committed (rows stay findable)."""
        async with self.sessions() as session:
            high = (await session.execute(text("SELECT coalesce(max(id), 0) FROM messages"))).scalar_one()
        low = 0
        while low < high:
            async with self.sessions() as session, session.begin():
                await session.execute(
                    text(f"UPDATE messages SET search = {VECTOR} WHERE id > :low AND id <= :high"),
                    {"low": low, "high": min(low + BATCH, high)},
                )
            low += BATCH
        async with self.sessions() as session:
            count = await session.execute(text("SELECT count(*) FROM messages WHERE deleted_at IS NULL"))
            return int(count.scalar_one())

    async def size(self) -> int:
        async with self.sessions() as session:
            found = await session.execute(text("SELECT pg_relation_size('ix_messages_search')"))
            return int(found.scalar_one())

    async def purge(self) -> None:
        """Nothing to merge: the ``tsvector`` is in the message's row, rewritten with it. The old
        row version stays in the heap until VACUUM reclaims it (autovacuum; docs/retention.md)."""
        return None

    async def close(self) -> None:
        return None


async def windowed(session: AsyncSession, query: SearchQuery) -> Sequence[Any] | None:
    """The answer read from windows of the restriction's newest messages, or None when no window
    provably holds it.

    Every hit of the plain query is a message of the restriction, and a window is the restriction's
    ``size`` newest messages: any other message of it is older than all of them. So ``limit`` hits
    in a window are the ``limit`` newest hits there are; fewer are all of them only when the window
    held fewer than ``size`` messages (the whole restriction). One snapshot (repeatable read) for
    the windows and their counts, so that a send or a delete between them cannot change the answer.
    """
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    size = query.limit * FIRST
    while True:
        sql, params = statement(query, window=size)
        rows = (await session.execute(text(sql), params)).all()
        if len(rows) >= query.limit:
            return rows
        filled = FILLED.format(restriction=restriction(query))
        if (await session.execute(text(filled), params)).scalar_one() < size:
            return rows
        wider = larger(size, len(rows), query.limit)
        if wider is None:
            return None
        size = wider


def larger(size: int, hits: int, limit: int) -> int | None:
    """The next window after ``size`` messages held ``hits`` (fewer than ``limit``): twice what the
    hits say is needed, and the largest when there were none; None after the largest (what the
    query matches is then rare among these messages, and its bitmap small)."""
    largest = limit * LARGEST
    if size >= largest:
        return None
    return min(size * limit * 2 // hits if hits else largest, largest)


def _row(row: Sequence[Any]) -> SearchRow:
    message = MessageRecord(
        id=row[0],
        topic_id=row[1],
        seq=row[2],
        sender_id=row[3],
        body=row[4],
        client_id=row[5],
        created_at=row[6],
        edited_at=row[7],
        extras=extras_of(row[12:]),
    )
    return SearchRow(message, row[8], row[9], row[10], row[11])
