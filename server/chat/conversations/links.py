"""Links (PROTOCOL.md section 13): the distinct ``http(s)`` URLs a body links to, in order, at most 5.

Taken from the Markdown's own tokens (markdown-it-py, CommonMark with GitHub's strikethrough and
linkify-it for bare URLs), never from a regular expression over the text, so a URL inside a code
span or a code block is not a link, ``[text](url)``, ``<url>`` and reference links are, and a
``javascript:`` target is nothing. Bare URLs need their scheme (``www.example.com`` is text, as
the page renders it). Computed once per send and per edit and kept on the message's row.

Cost: most bodies hold no ``http`` at all (any spelling of a link has it, except one written with
character references or escapes, so ``&`` and ``\\`` send a body through the parser too): those
cost one lowered copy and three ``in`` checks. A body that may link is parsed (about 50-150 us):
what link normalisation does beyond making the URL fit to fetch (punycode of the link's *text*)
is switched off.
"""

from __future__ import annotations

import string
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

MAX_LINKS = 5
SCHEMES = ("http://", "https://")


# What normalisation leaves as it is (mdurl's encode keeps these; an ASCII host needs no punycode).
UNCHANGED = frozenset(string.ascii_letters + string.digits + ";/?:@&=+$,-_.!~*'()#")


class _LinkParser(MarkdownIt):
    def normalizeLinkText(self, link: str) -> str:
        """A link's text is never shown here: only hrefs matter (its punycode is half the cost)."""
        return link

    def normalizeLink(self, url: str) -> str:
        """Most URLs are plain ASCII that normalisation returns unchanged: skip its parse."""
        if UNCHANGED.issuperset(url):
            return url
        return super().normalizeLink(url)


def _parser() -> MarkdownIt:
    parser = _LinkParser("commonmark", {"linkify": True}).enable(["linkify", "strikethrough"])
    assert parser.linkify is not None, "linkify-it-py is a dependency"
    parser.linkify.set({"fuzzy_link": False, "fuzzy_email": False})  # a bare URL needs its scheme
    return parser


PARSER = _parser()


def links_of(body: str) -> tuple[str, ...]:
    """The body's distinct http(s) link targets, in order, at most ``MAX_LINKS``."""
    if "http" not in body.lower() and "&" not in body and "\\" not in body:
        return ()
    found: list[str] = []
    for href in _hrefs(PARSER.parse(body)):
        if href.lower().startswith(SCHEMES) and href not in found:
            found.append(href)
            if len(found) == MAX_LINKS:
                break
    return tuple(found)


def _hrefs(tokens: list[Token]) -> Iterator[str]:
    """Link targets in document order; images count as links (the page renders them as links)."""
    for token in tokens:
        if token.type == "link_open":
            yield str(token.attrs.get("href", ""))
        elif token.type == "image":
            yield str(token.attrs.get("src", ""))
        elif token.children:
            yield from _hrefs(token.children)
