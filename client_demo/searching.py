"""Search (PROTOCOL.md section 9): the ``search`` event, its hits as lines.

A hit's ``highlight`` is HTML: the body escaped, with ``<mark>``/``</mark>``
around the matches. ``highlight_text`` turns it into terminal text: the
entities unescaped, control characters escaped as in every other line
(``render.safe``), and the marks bold and coloured on a colour terminal or
dropped otherwise. A highlight that is anything else (a stray tag or ``<``)
is not trusted: the message's body is shown instead.

``Searcher`` keeps the last query and its cursor for the REPL's ``/more``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from client_demo import render
from client_demo.connection import Connection
from client_demo.errors import ClientError, UsageError
from client_demo.models import Message, as_message
from client_demo.output import out

MARK_ON = "\x1b[1;36m"  # bold cyan: mentions of you are bold yellow
MARK_OFF = "\x1b[0m"
TOKEN = re.compile(r"<mark>|</mark>|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});|[^<>&]+")
LIMIT = (1, 100)
HELP = """\
  /search QUERY               find messages (words, "a phrase", -word, word*, from:USER,
                              in:TOPIC, in:@USER, before:/after:YYYY-MM-DD, has:file,
                              is:mention, is:thread); newest first
  /more                       the next page of the last search"""


@dataclass(frozen=True)
class Hit:
    """One search hit: the Message and its highlight (HTML, as sent)."""

    message: Message
    highlight: str


@dataclass(frozen=True)
class Page:
    """One page of hits and the cursor of the next one (None: the last page)."""

    hits: list[Hit]
    next: str | None


def marked_parts(highlight: object) -> list[tuple[str, bool]] | None:
    """``[(text, marked)]`` with entities unescaped; None when it is not plain marked text."""
    if not isinstance(highlight, str):
        return None
    parts: list[tuple[str, bool]] = []
    marked, at = False, 0
    while at < len(highlight):
        match = TOKEN.match(highlight, at)
        if match is None:
            return None
        token, at = match[0], match.end()
        if token in ("<mark>", "</mark>"):
            if marked == (token == "<mark>"):
                return None
            marked = not marked
        else:
            parts.append((html.unescape(token), marked))
    return None if marked else parts


def highlight_text(hit: Hit, *, color: bool) -> str:
    """The highlight as terminal text (marks in colour, or dropped); the body if it is not trusted."""
    parts = marked_parts(hit.highlight)
    if parts is None:
        return render.safe(hit.message.get("body") or "")
    shown = (render.safe(text) for text, _ in parts)
    if not color:
        return "".join(shown)
    return "".join(
        f"{MARK_ON}{text}{MARK_OFF}" if marked else text
        for text, (_, marked) in zip(shown, parts, strict=True)
    )


def hit_line(hit: Hit, *, color: bool = False) -> str:
    """``2026-11-23 12:04 [general #3] alice: we <deploy> on friday  (id 12)``."""
    message = hit.message
    at = message.get("created_at")
    where = f"{str(at or '')[:10]} {render.clock(at)} [{render.safe(message['topic'])} #{message['seq']}]"
    text = highlight_text(hit, color=color)
    return f"{where} {render.safe(message['sender'])}: {text}  (id {message['id']})"


def as_page(data: Any) -> Page:
    """The ``search`` answer checked: ``bad_reply`` when it is not ``{"hits": [...], "next"}``."""
    hits = data.get("hits") if isinstance(data, dict) else None
    if not isinstance(hits, list):
        raise ClientError("bad_reply", "the search answer has no hits")
    found = [
        Hit(as_message(hit.get("message")), str(hit.get("highlight") or ""))
        for hit in hits
        if isinstance(hit, dict)
    ]
    cursor = data.get("next")
    return Page(found, cursor if isinstance(cursor, str) and cursor else None)


def payload(
    query: str,
    *,
    topic: str | None = None,
    with_: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The ``search`` event's payload (only the fields given)."""
    fields = {"q": query, "topic": topic, "with": with_, "limit": limit, "cursor": cursor}
    return {key: value for key, value in fields.items() if value is not None}


class Searcher:
    """The REPL's ``/search`` and ``/more``: the last query and where its next page starts."""

    def __init__(self, conn: Connection, *, color: bool = False) -> None:
        self.conn = conn
        self.color = color
        self.query: str | None = None
        self.cursor: str | None = None
        self.shown = 0

    def table(self) -> dict[str, Any]:
        """Command name -> handler, for the REPL's table."""
        return {"search": self.search, "more": self.more}

    async def search(self, rest: str) -> None:
        query = rest.strip()
        if not query:
            raise UsageError('/search QUERY (try /search from:alice "release notes")')
        self.query, self.cursor, self.shown = query, None, 0
        await self._page()

    async def more(self, rest: str) -> None:
        if rest.strip():
            raise UsageError("/more takes nothing: it pages the last /search")
        if self.query is None:
            raise UsageError("nothing to page: /search QUERY first")
        if self.cursor is None:
            out(f"--- no more results for {render.safe(self.query)} ---")
            return
        await self._page()

    async def _page(self) -> None:
        assert self.query is not None
        page = as_page(await self.conn.call("search", payload(self.query, cursor=self.cursor)))
        first = self.shown + 1
        self.shown += len(page.hits)
        self.cursor = page.next
        if not page.hits:
            none = f"--- no messages found for {render.safe(self.query)} ---"
            out(none if first == 1 else "--- no more results ---")
            return
        out(f"--- results {first}-{self.shown} for {render.safe(self.query)}, newest first ---")
        for hit in page.hits:
            out(hit_line(hit, color=self.color))
        out("--- more: /more ---" if page.next else "--- end of results ---")
