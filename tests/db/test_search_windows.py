"""``from:`` and ``in:`` with words answer exactly the plain query, on both databases (issue 22).

PostgreSQL first tests the query on windows of the sender's or the topic's newest messages
(``db/search/postgres.py``: 8 times the page, then as many as the hits so far say, up to 100
times) and runs the plain query when no window provably holds the page. The corpus makes every
path happen: ``user1`` (500 messages) says "needle" rarely, so that a first window holds too few
hits and a second one is tried, no window is worth it (the plain query), or the sender's messages
run out below the cursor; ``user2`` says it often, so that the word alone would start elsewhere.
Each case is paged to its end with cursors and compared with the answer worked out here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.search import setup
from db.engine import is_sqlite
from db.migrate import upgrade
from db.sends_sqlite import sqlite_time
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.search.service import SearchService
from tests.databases import fresh_postgres_database, postgres_url

pytestmark = pytest.mark.both_databases

START = datetime(2026, 1, 1, tzinfo=UTC)
COUNT = 1000  # one an hour: about 41 days, so that before: and after: cut the corpus
NEEDLES = {10, 200, 520, 540, 680, 980}  # user1's (even numbers); user2 says it every third time
DELETED = {540, 996}


@dataclass(frozen=True)
class Sent:
    n: int
    sender: str
    topic: str
    body: str

    @property
    def at(self) -> datetime:
        return START + timedelta(hours=self.n)


def sent(n: int) -> Sent:
    sender = "user1" if n % 2 == 0 else "user2"
    needle = n in NEEDLES if sender == "user1" else n % 3 == 0
    words = ["needle" if needle else "straw", "hay", f"n{n}"]
    return Sent(n, sender, f"t{n % 3}", " ".join(words))


CORPUS = [sent(n) for n in range(COUNT)]


@dataclass(frozen=True)
class Case:
    q: str
    sender: str | None = None
    topic: str | None = None
    words: tuple[str, ...] = ()
    without: str | None = None
    after: datetime | None = None
    before: datetime | None = None

    def expected(self) -> list[int]:
        """The numbers of the messages found, newest first, worked out from the corpus."""
        found = [
            message.n
            for message in CORPUS
            if message.n not in DELETED
            and self.sender in (None, message.sender)
            and self.topic in (None, message.topic)
            and all(word in message.body.split() for word in self.words)
            and (self.without is None or self.without not in message.body.split())
            and (self.after is None or message.at >= self.after)
            and (self.before is None or message.at < self.before)
        ]
        return sorted(found, reverse=True)


def day(d: int) -> datetime:
    return datetime(2026, 1, d, tzinfo=UTC)


CASES = [
    # the first window holds one hit, the second enough; the last pages run out of user1's messages
    Case("from:user1 needle", sender="user1", words=("needle",)),
    Case("from:user1 hay", sender="user1", words=("hay",)),  # every message: the first window
    Case("from:user1 hay -needle", sender="user1", words=("hay",), without="needle"),
    Case("from:user1 nee*", sender="user1", words=("needle",)),
    Case("from:user2 needle", sender="user2", words=("needle",)),
    Case("from:user1", sender="user1"),  # operators alone walk too
    # in: and both: the same shape
    Case("in:t2 needle", topic="t2", words=("needle",)),
    Case("from:user1 in:t2 needle", sender="user1", topic="t2", words=("needle",)),
    Case("from:user1 in:t1 needle", sender="user1", topic="t1", words=("needle",)),
    # dates cut the windows: after: ends them, before: starts them lower
    Case("from:user1 needle before:2026-01-29", sender="user1", words=("needle",), before=day(29)),
    Case("from:user1 needle after:2026-01-09", sender="user1", words=("needle",), after=day(10)),
    Case("from:user1 straw after:2026-01-30", sender="user1", words=("straw",), after=day(31)),
    Case(
        "from:user1 needle after:2026-01-05 before:2026-01-23",
        sender="user1",
        words=("needle",),
        after=day(6),
        before=day(23),
    ),
]


@pytest.fixture
async def db(database: str, tmp_path: Path) -> AsyncIterator[Database]:
    if database == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=True) as url:
            loaded = Database(url)
            try:
                await load(loaded)
                yield loaded
            finally:
                await loaded.dispose()
        return
    loaded = Database(f"sqlite+aiosqlite:///{tmp_path / 'windows.db'}")
    try:
        await load(loaded)
        yield loaded
    finally:
        await loaded.dispose()


async def load(db: Database) -> None:
    """The bench's 50 users and 20 public topics (``user0`` a member of each), then the corpus, its
    times stored as the server stores them (SQLite: ``sqlite_time``'s text)."""
    await upgrade(db.engine)
    await setup(db)
    async with db.write() as repos:
        topics = await repos.session.execute(text("SELECT id, name FROM topics"))
        ids = {name: id_ for id_, name in topics.all()}
        names = await repos.session.execute(text("SELECT id, username FROM users"))
        users = {name: id_ for id_, name in names.all()}
        seqs = dict.fromkeys(ids.values(), 0)
        rows = []
        for message in CORPUS:
            seqs[ids[message.topic]] += 1
            rows.append(
                {
                    "topic": ids[message.topic],
                    "seq": seqs[ids[message.topic]],
                    "sender": users[message.sender],
                    "body": message.body,
                    "at": sqlite_time(message.at) if is_sqlite(db.url) else message.at,
                }
            )
        await repos.session.execute(
            text(
                "INSERT INTO messages (topic_id, seq, sender_id, body, created_at)"
                " VALUES (:topic, :seq, :sender, :body, :at)"
            ),
            rows,
        )
        await repos.session.execute(
            text("UPDATE messages SET deleted_at = created_at WHERE body LIKE :one OR body LIKE :two"),
            {"one": f"% n{min(DELETED)}", "two": f"% n{max(DELETED)}"},
        )


async def pages(db: Database, q: str, limit: int) -> list[int]:
    """Every hit of ``q``, page after page: the corpus numbers of the messages, as found."""
    async with db.read() as repos:
        user = await repos.users.by_name("user0")
    assert user is not None
    service, found, cursor = SearchService(db), [], None
    for _ in range(COUNT):
        page = await service.search(Actor(user.id, user.username), q, cursor=cursor, limit=limit)
        found += [int(hit.message.body.rsplit(" n", 1)[1]) for hit in page.hits]
        if page.next is None:
            return found
        cursor = page.next
    raise AssertionError(f"{q}: no last page")


@pytest.mark.parametrize("limit", [2, 7])
async def test_from_and_in_with_words_page_exactly_as_the_corpus_says(db, limit):
    for case in CASES:
        assert await pages(db, case.q, limit) == case.expected(), case.q
