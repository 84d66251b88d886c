"""Full-text search over message bodies (PROTOCOL.md section 9): the values a search is made of, the
port the domain calls; ``db/uow.py`` picks the implementation for a database URL.

The domain parses the user's query (``server/chat/search/service.py``) into ``Term`` values and resolves its
operators to ids; an index here renders the terms to its own syntax from bind parameters (never
from the user's text as syntax) and applies every access rule in SQL:

- SQLite: ``messages_fts``, an external-content FTS5 table over ``messages.body`` (tokenizer
  ``unicode61 remove_diacritics 2``), kept by triggers on insert, on an update of ``body`` or
  ``deleted_at`` and on delete (``db/search/sqlite.py``; the group-commit writer's inserts fire
  them too, a batch in few statements: ``db/sends_sqlite.py``);
- PostgreSQL: ``messages.search``, a ``tsvector`` kept by a trigger on insert and on an update of
  ``body`` (NULL while the backfill has not reached the row; configuration ``simple``: no
  stemming) over ``parley_search_text(body)`` (unaccented, lower-cased, every run of characters
  that are not letters or digits made one space, which is how FTS5's ``unicode61`` splits words),
  with a GIN index, and the indexes a ``from:`` or ``in:`` query walks newest first
  (``db/search/postgres.py``).

What a searcher may find (both databases, one rule): messages not deleted, of public topics and of
the topics and direct conversations the searcher is a member of, whose sender the searcher has not
blocked; an archived topic's messages too. Newest first by ``(created_at, id)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from db.conversations.records import MessageRecord

# Names of what the search migration adds beside the tables (no ``db/<capability>/tables.py``
# declares them; the schema comparison in tests/db/test_migrations.py and Alembic's autogenerate skip them).
SEARCH_TABLES = frozenset(
    {
        "messages_fts",
        "messages_fts_data",
        "messages_fts_idx",
        "messages_fts_docsize",
        "messages_fts_config",
        "messages_fts_content",
        "search_backfill",
    }
)
SEARCH_COLUMN = "search"
# The GIN index, and the indexes ``from:`` and ``in:`` walk on PostgreSQL (``db/search/postgres.py``,
# migration 0013; SQLite has neither).
SEARCH_INDEXES = frozenset({"ix_messages_search", "ix_messages_sender_created", "ix_messages_topic_created"})


def is_search_object(name: str | None, kind: str) -> bool:
    """True for a table, column or index the search migration made (Alembic's ``include_name``)."""
    if kind == "table":
        return name in SEARCH_TABLES
    if kind == "column":
        return name == SEARCH_COLUMN
    if kind == "index":
        return name in SEARCH_INDEXES
    return False


@dataclass(frozen=True, slots=True)
class Term:
    """One searched word or phrase: its tokens (letters and digits only, as typed), all of which
    must follow each other; ``prefix``: the last token matches as a prefix; ``negated``: a message
    that has it is left out."""

    tokens: tuple[str, ...]
    prefix: bool = False
    negated: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed query with its operators resolved: what the index runs for ``viewer``."""

    viewer: int
    terms: tuple[Term, ...] = ()
    topic_id: int | None = None  # ``in:``, or the ``topic``/``with`` argument
    sender_id: int | None = None  # ``from:``
    after: datetime | None = None  # created at or after this moment (UTC)
    before: datetime | None = None  # created before this moment (UTC)
    mention: bool = False  # ``is:mention``: mentions the viewer by name (the mentions table)
    thread: bool = False  # ``is:thread``: a reply in a thread
    has_file: bool = False  # ``has:file``: messages with files (PROTOCOL.md section 11)
    cursor: tuple[datetime, int] | None = None  # strictly older than this (created_at, id)
    limit: int = 20
    everything: bool = False  # an operator's search: every conversation, no viewer's access rule


@dataclass(frozen=True, slots=True)
class SearchRow:
    """A found message with what it is shown with: its sender, its topic and, for a direct
    conversation, the other member as the viewer sees it."""

    message: MessageRecord
    sender: str
    topic_name: str
    topic_kind: str
    peer: str | None


class SearchIndex(Protocol):
    async def check(self) -> None:
        """Raise ``SearchUnavailable`` when the database cannot search (SQLite without FTS5)."""
        ...

    async def search(self, query: SearchQuery) -> list[SearchRow]:
        """At most ``query.limit`` rows, newest first."""
        ...

    async def reindex(self) -> int:
        """Rebuild the index from the messages table; the number of messages indexed."""
        ...

    async def backfill(self) -> int:
        """Index what a migration or a reindex left pending, in batches; the ids covered."""
        ...

    async def size(self) -> int:
        """The index's size in bytes (the bench reports it)."""
        ...

    async def purge(self) -> None:
        """After an erasure: no copy of removed words is left in the index's storage (SQLite's
        FTS5 keeps a deleted entry in old segments until they are merged)."""
        ...

    async def close(self) -> None: ...


class SearchUnavailable(RuntimeError):
    """The database cannot search: the message says why and what to do."""


__all__ = [
    "SearchIndex",
    "SearchQuery",
    "SearchRow",
    "SearchUnavailable",
    "Term",
    "is_search_object",
]
