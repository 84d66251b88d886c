"""Search latency at a scale CI can load in seconds (PROTOCOL.md section 9; the full-size figures
come from ``python -m bench.search``, see bench/README.md).

50,000 messages (a Zipf vocabulary, 50 senders, 20 topics) are loaded by the bench's bulk path,
the same tables and index as a server's; then each of the bench's six kinds of query (rare,
common, two words, phrase, prefix, ``from:``) runs 20 times through ``SearchService.search``.
The threshold: the median at most ``P50_MS`` = 150 ms per kind, on both databases. On an idle
machine the p95s are 2-30 ms; a plan that sorts every match of a common word takes ~0.5-1 s at this
size on every run, which the median catches. The p95 was the bound before: a CI run on shared
cores put PostgreSQL's one-letter prefix at 190 ms (p95 of 20 runs; 19-21 ms p50 and 21-28 ms p95
on the same machine idle): the cores stalled a run or two, the plan did not change.
Each page must also equal the plain query's: SQLite's windows of the newest matches and
PostgreSQL's windows of a sender's or a topic's newest messages are exact.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from bench.search import Corpus, fill, measure, queries
from db.engine import is_sqlite
from db.search import SearchQuery
from db.search import postgres as pg
from db.search.sqlite import SqliteSearch, run_search
from db.times import utc
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.search.service import SearchService, parse
from tests.databases import fresh_postgres_database, postgres_url

# One corpus per database for the whole module (a fill is most of each test's time: about 10 s
# on a loaded CI machine), on the module's event loop; on one worker, so it is filled once.
pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.xdist_group("search-scale"),
]
MESSAGES = 50_000
P50_MS = 150.0
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Database, Corpus]]:
    """The corpus on ``request.param``'s database, shared by the module's tests (they only read)."""
    corpus = Corpus.make(50_000, 1.1, seed=7)
    if request.param == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=True) as url:
            db = Database(url)
            try:
                await fill(db, corpus, MESSAGES, 10_000)
                yield db, corpus
            finally:
                await db.dispose()
        return
    db = Database(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('search') / 'scale.db'}")
    try:
        await fill(db, corpus, MESSAGES, 10_000)
        yield db, corpus
    finally:
        await db.dispose()


async def test_every_kind_of_query_answers_within_the_threshold(loaded):
    db, corpus = loaded
    results = await measure(db, corpus, runs=20)
    slow = {
        kind: r["p50_ms"] for kind, r in results.items() if kind != "index_bytes" and r["p50_ms"] > P50_MS
    }
    assert slow == {}, results
    assert all(results[kind]["hits_on_page"] == 20 for kind in ("common", "two_words", "phrase", "prefix"))
    assert results["index_bytes"] > 0


async def test_the_windowed_plans_page_exactly_as_a_full_sort(loaded):
    """SQLite's windows of the newest matches, PostgreSQL's windows of a sender's or a topic's newest
    messages: five pages of each query equal the plain query's, with and without ``before:``, a
    sender, a topic and negations."""
    db, corpus = loaded
    async with db.read() as repos:
        user = await repos.users.by_name("user0")
        sender = await repos.users.by_name("user7")
    assert user is not None and sender is not None
    words = corpus.words
    day = datetime(2026, 1, 1, 6, tzinfo=UTC)  # the corpus spans about 14 hours of 1 January
    cases: list[tuple[str, dict[str, Any]]] = [(q, {}) for q in queries(corpus).values()]
    cases += [
        (f"{words[0]} -{words[1]}", {}),
        (f"-{words[0]}", {}),
        (words[0], {"before": day}),
        (f"{words[2]} -{words[5]}", {"before": day}),
        (words[0], {"sender_id": sender.id}),
        (words[1], {"topic_id": 3, "before": day}),
        (words[10], {"sender_id": sender.id}),
        (words[10], {"sender_id": sender.id, "before": day}),
        (words[10], {"sender_id": sender.id, "after": day}),
        (f"{words[10]} -{words[0]}", {"sender_id": sender.id}),
        (words[200][:3] + "*", {"sender_id": sender.id}),
        (words[3000], {"sender_id": sender.id}),  # rare: no window holds a page
        (words[10], {"topic_id": 3}),
        (words[10], {"topic_id": 3, "sender_id": sender.id}),
    ]
    page = await SearchService(db).search(Actor(user.id, user.username), queries(corpus)["common"])
    assert len(page.hits) == 20
    for q, extra in cases:
        cursor = None
        for _ in range(5):
            query = SearchQuery(viewer=user.id, terms=parse(q).terms, limit=21, cursor=cursor, **extra)
            windowed, full = await both_plans(db, query)
            assert windowed == full, (q, extra)
            if len(windowed) < 21:
                break
            cursor = windowed[19]


async def both_plans(db: Database, query: SearchQuery) -> tuple[list[int], list[int]]:
    """The ids the search answers ``query`` with, and the ids of the plain query, newest first;
    then the cursor (created_at, id) of each is read from the rows."""
    if is_sqlite(db.url):
        connection = sqlite3.connect(db.url.split("///", 1)[1])
        try:
            sql, params = SqliteSearch.statement(query)
            full = connection.execute(sql, params).fetchall()
            windowed = run_search(connection, query)
        finally:
            connection.close()
        return [(utc(row[6]), row[0]) for row in windowed], [(utc(row[6]), row[0]) for row in full]
    rows = await db.search.search(query)
    sql, params = pg.statement(query)
    async with db.sessions() as session:
        plain = (await session.execute(text(sql), params)).all()
    return [(row.message.created_at, row.message.id) for row in rows], [(row[6], row[0]) for row in plain]


@pytest.mark.parametrize("loaded", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_a_from_query_with_a_common_word_walks_the_senders_newest_messages(loaded):
    """PostgreSQL: ``from:user7`` and a word in a tenth of the messages reads user7's newest messages
    newest first from an index, not the word's whole posting list from the GIN index (issue 22:
    26 ms of bitmap at a million messages); the same for ``in:``."""
    db, corpus = loaded
    async with db.read() as repos:
        user = await repos.users.by_name("user7")
    assert user is not None
    for restricted in ({"sender_id": user.id}, {"topic_id": 3}):
        query = SearchQuery(viewer=user.id, terms=parse(corpus.words[10]).terms, limit=21, **restricted)
        assert pg.walks(query)
        sql, params = pg.statement(query, window=21 * pg.FIRST)
        async with db.sessions() as session:
            plan = (await session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params)).scalar_one()
        shown = json.dumps(plan)
        assert '"Scan Direction": "Backward"' in shown and "ix_messages_search" not in shown, shown
