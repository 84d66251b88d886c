"""A message body (Markdown, PROTOCOL.md section 13) as ANSI-styled terminal lines. Pure functions.

Only for a colour terminal (``Look.color``): without colour the demo prints a
body as written, which is already readable and is what scripts and pipes
expect. The body is parsed with markdown-it-py's CommonMark preset plus
``~~strike~~``; raw HTML is off, so ``<b>`` stays text. Each kind of node gets a
terminal style instead of its markers: **bold**, *italics* (SGR 3),
~~strike~~ (SGR 9), ``code`` in reverse video, fenced and indented code blocks
dim, links underlined and followed by ``(url)`` when their text is not the URL
(an image is a link, as the protocol says), headings bold, lists and quotes
by their prefixes. Every piece of text is passed through
``controls.visible`` before a style is added: a body can never emit an escape
sequence of its own. Each style is ended by its own "off" code, not a full
reset, so styles nest (bold inside a link stays underlined).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from client_demo.controls import visible

BOLD = ("\x1b[1m", "\x1b[22m")
ITALIC = ("\x1b[3m", "\x1b[23m")
UNDERLINE = ("\x1b[4m", "\x1b[24m")
STRIKE = ("\x1b[9m", "\x1b[29m")
CODE = ("\x1b[7m", "\x1b[27m")  # inline code: reverse video
BLOCK = ("\x1b[2m", "\x1b[22m")  # a code block's lines: dim
RULE = "\u2500" * 20

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
_PAIRS = {"strong": BOLD, "em": ITALIC, "s": STRIKE}

Mark = Callable[[str], str]  # extra marking of plain text runs (mentions of the reader)


def styled(body: str, mark: Mark | None = None) -> list[str]:
    """``body`` rendered as terminal lines (no trailing empty line); ``mark`` styles each text run.

    ``mark`` gets text already made visible and may only add escape codes of its own.
    """
    writer = _Writer()
    _blocks(_PARSER.parse(body), writer, mark or _same)
    return writer.lines or [""]


def _same(text: str) -> str:
    return text


@dataclass
class _Prefix:
    """What starts each line inside a list item or a quote; ``first`` once, then ``rest``."""

    first: str
    rest: str
    used: bool = False


@dataclass
class _Writer:
    """The lines so far and the prefixes of the blocks we are inside."""

    lines: list[str] = field(default_factory=list)
    prefixes: list[_Prefix] = field(default_factory=list)

    def line(self, text: str) -> None:
        parts = []
        for prefix in self.prefixes:
            parts.append(prefix.rest if prefix.used else prefix.first)
            prefix.used = True
        self.lines.append("".join(parts) + text)


def _blocks(tokens: list[Token], writer: _Writer, mark: Mark) -> None:
    """Walk the block tokens: paragraphs and headings, lists, quotes, code, rules."""
    counters: list[int | None] = []  # per open list: the next number, None for bullets
    heading = False
    for token in tokens:
        kind = token.type
        if kind in ("heading_open", "heading_close"):
            heading = kind == "heading_open"
        elif kind == "inline":
            text = _inline(token.children or [], mark)
            for piece in text.split("\n"):
                writer.line(_wrap(BOLD, piece) if heading else piece)
        elif kind in ("fence", "code_block"):
            for piece in token.content.rstrip("\n").split("\n"):
                writer.line(_wrap(BLOCK, visible(piece)))
        elif kind == "hr":
            writer.line(RULE)
        elif kind == "bullet_list_open":
            counters.append(None)
        elif kind == "ordered_list_open":
            start = token.attrGet("start")
            counters.append(int(start) if isinstance(start, int | str) else 1)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            counters.pop()
        elif kind == "list_item_open":
            writer.prefixes.append(_item(counters))
        elif kind == "blockquote_open":
            writer.prefixes.append(_Prefix("\u2502 ", "\u2502 "))
        elif kind in ("list_item_close", "blockquote_close"):
            writer.prefixes.pop()
        elif kind == "html_block":  # only if html were on: shown as written
            for piece in token.content.rstrip("\n").split("\n"):
                writer.line(visible(piece))


def _item(counters: list[int | None]) -> _Prefix:
    number = counters[-1] if counters else None
    if number is None:
        return _Prefix("\u2022 ", "  ")
    counters[-1] = number + 1
    marker = f"{number}. "
    return _Prefix(marker, " " * len(marker))


def _inline(children: list[Token], mark: Mark) -> str:
    """One paragraph's inline tokens as text with styles; soft and hard breaks as newlines."""
    return "".join(_pieces(iter(children), mark))


def _pieces(tokens: Iterator[Token], mark: Mark) -> Iterator[str]:
    for token in tokens:
        kind = token.type
        if kind in ("text", "text_special"):
            yield mark(visible(token.content))
        elif kind in ("softbreak", "hardbreak"):
            yield "\n"
        elif kind == "code_inline":
            yield _wrap(CODE, visible(token.content))
        elif kind.endswith("_open") and kind[: -len("_open")] in _PAIRS:
            yield _PAIRS[kind[: -len("_open")]][0]
        elif kind.endswith("_close") and kind[: -len("_close")] in _PAIRS:
            yield _PAIRS[kind[: -len("_close")]][1]
        elif kind == "link_open":
            yield _link(token, list(_until_close(tokens)), mark)
        elif kind == "image":
            yield _labelled(visible(token.content), str(token.attrGet("src") or ""))
        else:  # html_inline if html were on, anything newer: the source text, made visible
            yield visible(token.content)


def _until_close(tokens: Iterator[Token]) -> Iterator[Token]:
    """The tokens inside a link, up to its ``link_close`` (links do not nest in CommonMark)."""
    for token in tokens:
        if token.type == "link_close":
            return
        yield token


def _link(opener: Token, inside: list[Token], mark: Mark) -> str:
    text = "".join(_pieces(iter(inside), mark))
    plain = "".join(t.content for t in inside)
    return _labelled(text, str(opener.attrGet("href") or ""), plain)


def _labelled(text: str, href: str, plain: str | None = None) -> str:
    """``text`` underlined, then `` (url)`` unless the text already is the URL (an autolink)."""
    url = _PARSER.normalizeLinkText(href)
    shown = plain if plain is not None else text
    same = shown in (url, href, url.removeprefix("mailto:"))
    return _wrap(UNDERLINE, text) + ("" if same or not url else f" ({visible(url)})")


def _wrap(style: tuple[str, str], text: str) -> str:
    return f"{style[0]}{text}{style[1]}" if text else text
