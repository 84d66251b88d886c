"""Search (PROTOCOL.md section 9): the query language, the highlight, and the service.

The query language is parsed here, by our own tokenizer, into a small AST (``Parsed``: ``Term``
values for words and phrases, plus the operators); the database never sees the user's text as
syntax. The index (``db/search``: FTS5 on SQLite, a ``tsvector`` on PostgreSQL) renders the terms
from bind parameters and applies the access rules in SQL.

    q         := item*                      (whitespace separates items)
    item      := "-"? '"' text '"' "*"?     a phrase (negated with "-"; "*": its last word a prefix)
               | "-"? word "*"?             a word (one or more runs of letters and digits, which
                                            follow each other as in a phrase: "e-mail" is e, mail)
               | operator ":" value         from:NAME (or from:@NAME), in:TOPIC, in:@NAME,
                                            before:YYYY-MM-DD, after:YYYY-MM-DD, has:file,
                                            is:mention, is:thread (names of operators in any case)

Anything that is not one of those is searched as words: an operator with a bad or empty value
(``before:soon``, ``from:``) is the words it is made of, an unbalanced ``"`` is a space, and
punctuation (FTS5's ``NEAR``, ``^``, ``:``, SQL's ``'`` and ``;``) separates words, never
raises. ``before:D`` finds messages sent before day D (UTC), ``after:D`` after day D. Several
``from:`` (or ``in:``) naming different users (or places) find nothing: every condition must hold.
A query with neither words nor operators finds nothing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import html
import logging
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from db.records import TopicRecord
from db.repositories import Repositories
from db.search import SearchQuery, SearchRow, Term
from db.uow import Database
from server.chat.kernel.actors import CLI, Actor, Doer
from server.chat.kernel.errors import invalid, no_topic
from server.chat.kernel.facts import Acted
from server.chat.kernel.outage import DATABASE, Backoff
from server.chat.kernel.schemas import NAME_CHARS
from server.chat.kernel.views import message_view
from server.chat.rules.access import find_direct, named_topic
from server.chat.search.schemas import ReindexOut, SearchHitOut, SearchPageOut

log = logging.getLogger("parley.search")
BACKFILL_RETRY, BACKFILL_RETRY_MAX = 0.5, 5.0  # seconds between backfill tries through an outage

WORD = re.compile(r"[^\W_]+")  # a run of letters and digits (what FTS5's unicode61 keeps)
OPERATOR = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
USERNAME = re.compile(rf"@?({NAME_CHARS}{{3,32}})")
TOPIC = re.compile(rf"{NAME_CHARS}{{1,64}}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
FLAGS = {("has", "file"): "has_file", ("is", "mention"): "mention", ("is", "thread"): "thread"}
HIGHLIGHT_CHARS = 200  # about this many characters of the body around the first match
HIGHLIGHT_BEFORE = 60  # of which at most this many before it


@dataclass(frozen=True)
class Parsed:
    """A query as typed, parsed: its terms and its operators (names not yet resolved to ids)."""

    terms: tuple[Term, ...] = ()
    senders: frozenset[str] = frozenset()  # ``from:``, lower-cased
    places: frozenset[str] = frozenset()  # ``in:``: a topic name or ``@username``, lower-cased
    after: date | None = None
    before: date | None = None
    has_file: bool = False
    mention: bool = False
    thread: bool = False
    operators: bool = False  # any operator at all (a query of operators alone is valid)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.operators


@dataclass
class _Builder:
    terms: list[Term] = field(default_factory=list)
    senders: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)
    after: date | None = None
    before: date | None = None
    flags: set[str] = field(default_factory=set)
    operators: bool = False

    def words(self, text: str, negated: bool, phrase: bool = False, prefix: bool = False) -> None:
        tokens = tuple(WORD.findall(text))
        if not tokens:
            return
        if not phrase:
            prefix = text.endswith("*")
        self.terms.append(Term(tokens, prefix, negated))

    def operator(self, name: str, value: str) -> bool:
        """Apply ``name:value``; False when it is not an operator of the language (then: words)."""
        name = name.lower()
        if name == "from" and (user := USERNAME.fullmatch(value)):
            self.senders.add(user.group(1).lower())
        elif name == "in" and (USERNAME if value.startswith("@") else TOPIC).fullmatch(value):
            self.places.add(value.lower())
        elif name in ("before", "after") and (day := _day(value)):
            if name == "before":
                self.before = day if self.before is None else min(self.before, day)
            else:
                self.after = day if self.after is None else max(self.after, day)
        elif (flag := FLAGS.get((name, value.lower()))) is not None:
            self.flags.add(flag)
        else:
            return False
        self.operators = True
        return True

    def parsed(self) -> Parsed:
        return Parsed(
            tuple(self.terms),
            frozenset(self.senders),
            frozenset(self.places),
            self.after,
            self.before,
            "has_file" in self.flags,
            "mention" in self.flags,
            "thread" in self.flags,
            self.operators,
        )


def _day(value: str) -> date | None:
    if not DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse(q: str) -> Parsed:
    """The query ``q`` as terms and operators; never raises (see the module's grammar)."""
    built = _Builder()
    i, size = 0, len(q)
    while i < size:
        if q[i].isspace():
            i += 1
            continue
        negated = q[i] == "-" and i + 1 < size and not q[i + 1].isspace()
        start = i + 1 if negated else i
        if q[start] == '"':
            close = q.find('"', start + 1)
            if close != -1:
                prefix = close + 1 < size and q[close + 1] == "*"
                built.words(q[start + 1 : close], negated, phrase=True, prefix=prefix)
                i = close + 2 if prefix else close + 1
                continue
            i = start + 1  # an unbalanced quote: a separator
            continue
        end = start
        while end < size and not q[end].isspace() and q[end] != '"':
            end += 1
        chunk = q[start:end]
        i = end
        operator = None if negated else OPERATOR.fullmatch(chunk)
        if operator and built.operator(operator.group(1), operator.group(2)):
            continue
        built.words(chunk, negated)
    return built.parsed()


# Highlight ------------------------------------------------------------------------------------


def fold(word: str) -> str:
    """A word as search compares it: without diacritics, in any case."""
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def highlight(body: str, terms: tuple[Term, ...]) -> str:
    """``body`` HTML-escaped with each word a term matches in ``<mark>``, cut to about
    ``HIGHLIGHT_CHARS`` characters around the first match ("…" where it was cut)."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for term in terms:
        if term.negated:
            continue
        for n, token in enumerate(term.tokens):
            if term.prefix and n == len(term.tokens) - 1:
                prefixes.append(fold(token))
            else:
                exact.add(fold(token))
    spans = []
    for found in WORD.finditer(body):
        word = fold(found.group())
        if word in exact or any(word.startswith(p) for p in prefixes):
            spans.append((found.start(), found.end()))
    start = 0
    if spans and len(body) > HIGHLIGHT_CHARS:
        start = max(0, min(spans[0][0] - HIGHLIGHT_BEFORE, len(body) - HIGHLIGHT_CHARS))
    end = min(len(body), start + HIGHLIGHT_CHARS)
    out = ["…"] if start > 0 else []
    at = start
    for low, high in spans:
        if low < start or high > end:
            continue
        out.append(html.escape(body[at:low]))
        out.append(f"<mark>{html.escape(body[low:high])}</mark>")
        at = high
    out.append(html.escape(body[at:end]))
    if end < len(body):
        out.append("…")
    return "".join(out)


# Cursor ---------------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, message_id: int) -> str:
    moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    raw = f"{moment.astimezone(UTC).isoformat()}|{message_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor names; ``invalid`` for anything this server did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, message_id = raw.partition("|")
        at = datetime.fromisoformat(moment)
        number = int(message_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor: not a cursor this server gave") from None
    if at.tzinfo is None or not 0 < number < 2**63:
        raise invalid("cursor: not a cursor this server gave")
    return at.astimezone(UTC), number


# Service --------------------------------------------------------------------------------------


class _Nothing(Exception):
    """The query can match nothing (an unknown sender, two different places): answer no hits."""


class SearchService:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._backfill: asyncio.Task[None] | None = None

    async def search(
        self,
        actor: Actor,
        q: str,
        topic: str | None = None,
        with_: str | None = None,
        cursor: str | None = None,
        limit: int = 20,
    ) -> SearchPageOut:
        """One page of the messages ``actor`` may read that match ``q``, newest first."""
        parsed = parse(q)
        if cursor is not None:
            decode_cursor(cursor)  # a forged cursor is ``invalid`` whatever the query
        try:
            async with self.db.read() as repos:
                query = await self._resolve(repos, actor, parsed, topic, with_)
        except _Nothing:
            return SearchPageOut(hits=[], next=None)
        if parsed.empty:
            return SearchPageOut(hits=[], next=None)
        return await self._page(query, parsed, cursor, limit, actor.id)

    async def search_all(self, q: str, cursor: str | None = None, limit: int = 20) -> SearchPageOut:
        """An operator's search (the Admin UI): every message that is not deleted, in every topic
        and direct conversation. ``in:`` names any topic, private ones included; ``in:@user`` and
        ``is:mention`` (which need a viewer) match nothing."""
        parsed = parse(q)
        if parsed.empty or any(place.startswith("@") for place in parsed.places) or parsed.mention:
            return SearchPageOut(hits=[], next=None)
        try:
            async with self.db.read() as repos:
                topic_ids = set()
                for place in parsed.places:
                    found = await repos.topics.by_name(place)
                    if found is None or found.kind == "direct":
                        raise _Nothing
                    topic_ids.add(found.id)
                sender_id = await self._sender(repos, parsed)
        except _Nothing:
            return SearchPageOut(hits=[], next=None)
        if len(topic_ids) > 1:
            return SearchPageOut(hits=[], next=None)
        day = timedelta(days=1)
        query = SearchQuery(
            viewer=0,
            terms=parsed.terms,
            topic_id=next(iter(topic_ids)) if topic_ids else None,
            sender_id=sender_id,
            after=_midnight(parsed.after) + day if parsed.after else None,
            before=_midnight(parsed.before) if parsed.before else None,
            thread=parsed.thread,
            has_file=parsed.has_file,
            everything=True,
        )
        return await self._page(query, parsed, cursor, limit, viewer=None)

    async def _page(
        self, query: SearchQuery, parsed: Parsed, cursor: str | None, limit: int, viewer: int | None
    ) -> SearchPageOut:
        after = decode_cursor(cursor) if cursor is not None else None
        rows = await self.db.search.search(replace(query, cursor=after, limit=limit + 1))
        hits = [self._hit(row, parsed, viewer) for row in rows[:limit]]
        last = rows[limit - 1].message if len(rows) > limit else None
        return SearchPageOut(hits=hits, next=encode_cursor(last.created_at, last.id) if last else None)

    @staticmethod
    async def _sender(repos: Repositories, parsed: Parsed) -> int | None:
        """``from:``'s user id (``_Nothing``: two different ones, or no such user)."""
        if len(parsed.senders) > 1:
            raise _Nothing
        for name in parsed.senders:
            user = await repos.users.by_name(name)
            if user is None:
                raise _Nothing
            return user.id
        return None

    async def _resolve(
        self, repos: Repositories, actor: Actor, parsed: Parsed, topic: str | None, with_: str | None
    ) -> SearchQuery:
        """The query's operators as ids; raises ``not_found`` for a place the actor may not read
        (and ``_Nothing`` when the query can match nothing)."""
        places = set()
        if topic is not None:
            places.add(await self._topic(repos, actor, topic))
        if with_ is not None:
            places.add(await self._direct(repos, actor, with_))
        for place in parsed.places:
            if place.startswith("@"):
                places.add(await self._direct(repos, actor, place[1:]))
            else:
                places.add(await self._topic(repos, actor, place))
        if len(places) > 1:
            raise _Nothing
        sender_id = await self._sender(repos, parsed)
        day = timedelta(days=1)
        return SearchQuery(
            viewer=actor.id,
            terms=parsed.terms,
            topic_id=next(iter(places)) if places else None,
            sender_id=sender_id,
            after=_midnight(parsed.after) + day if parsed.after else None,
            before=_midnight(parsed.before) if parsed.before else None,
            mention=parsed.mention,
            thread=parsed.thread,
            has_file=parsed.has_file,
        )

    async def _topic(self, repos: Repositories, actor: Actor, name: str) -> int:
        found: TopicRecord = await named_topic(repos, name)
        if found.kind != "public" and await repos.memberships.get(found.id, actor.id) is None:
            raise no_topic(name)
        return found.id

    async def _direct(self, repos: Repositories, actor: Actor, username: str) -> int:
        if username.lower() == actor.username.lower():  # no conversation with oneself: nothing in it
            raise _Nothing
        located = await find_direct(repos, actor, username, create=False)
        if located is None:  # no conversation yet: nothing in it
            raise _Nothing
        return located.topic.id

    def start(self) -> None:
        """Index in the background what a migration left pending (SQLite, in short batches)."""
        self._backfill = asyncio.create_task(self._fill())

    async def caught_up(self) -> None:
        """Return once what the migration left pending is indexed (or the backfill gave up)."""
        if self._backfill is not None:
            await asyncio.shield(self._backfill)

    async def stop(self) -> None:
        if self._backfill is not None:
            self._backfill.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._backfill
            self._backfill = None

    async def _fill(self) -> None:
        """The backfill, tried again through the database's outage (each batch is idempotent:
        it computes what is still pending), given up on any other failure."""
        backoff = Backoff(BACKFILL_RETRY, ceiling=BACKFILL_RETRY_MAX)
        while True:
            try:
                covered = await self.db.search.backfill()
            except Exception as exc:
                if not DATABASE.failed(exc, "the search index backfill"):
                    log.exception("the search index backfill stopped; `parley search reindex` completes it")
                    return
                backoff.failed()
                await asyncio.sleep(backoff.delay)
                continue
            if backoff.failing:
                DATABASE.recovered()
            break
        if covered:
            log.info("search index: %d message ids indexed after the migration", covered)

    async def reindex(self, by: Doer = CLI) -> ReindexOut:
        """Rebuild the index from the messages table, in batches (``parley search reindex``). Its
        audit row is written once the batches are done, in a transaction of its own: a reindex
        that failed half-way wrote none."""
        messages = await self.db.search.reindex()
        async with self.db.write() as repos:
            repos.note(Acted(by, "search.reindex", details={"messages": messages}))
        return ReindexOut(messages=messages, bytes=await self.db.search.size())

    @staticmethod
    def _hit(row: SearchRow, parsed: Parsed, viewer: int | None) -> SearchHitOut:
        shown_as = f"@{row.peer}" if row.topic_kind == "direct" and row.peer else row.topic_name
        return SearchHitOut(
            message=message_view(row.message, row.sender, row.topic_kind, shown_as, viewer),
            highlight=highlight(row.message.body, parsed.terms),
        )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
