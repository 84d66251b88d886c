"""Links (PROTOCOL.md section 13): the distinct ``http(s)`` URLs a body links to, in order, at most 5.

Taken from the Markdown's own tokens (markdown-it-py, CommonMark with GitHub's strikethrough and
linkify-it for bare URLs), never from a regular expression over the text, so a URL inside a code
span or a code block is not a link, ``[text](url)``, ``<url>`` and reference links are, and a
``javascript:`` target is nothing. Bare URLs need their scheme (``www.example.com`` is text, as
the page renders it). Computed once per send and per edit and kept on the message's row.

Cost: most bodies hold no ``://`` at all (any spelling of an http(s) link has it, except one
written with character references or escapes, so ``&`` and ``\\`` send a body through the parser
too): those cost three ``in`` checks. Most bodies that do are one line of words and plain bare URLs
(``_PLAIN_URL``): ``_plain_line_hrefs`` splits such a line at its URLs with one regular expression
(about 1.5 us, against 10 us through linkify-it's own validation; a shortcut, not a second
definition: it takes only the lines the parse reads the same way). Other lines of text and bare
URLs go through ``_one_line_hrefs``, the parser's two linkify rules without the rest of the parse.
The differential tests hold both to the parse. Any other body is parsed (about 50-150 us): what
link normalisation does beyond making the URL fit to fetch (punycode of the link's *text*) is
switched off.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline.linkify import SCHEME_RE
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
    if "://" not in body and "&" not in body and "\\" not in body:
        return ()
    plain = _plain_line_hrefs(body)
    if plain is not None and len(plain) == 1:
        return (plain[0],)  # (an http(s) URL)
    hrefs: Iterable[str] | None = plain if plain is not None else _one_line_hrefs(body)
    if hrefs is None:
        hrefs = _hrefs(PARSER.parse(body))
    found: list[str] = []
    for href in hrefs:
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


# Outside the bare URLs of a line, what may start an inline rule other than text and linkify (an
# escape, a code span, a strikethrough or emphasis delimiter, a link or image, an autolink or HTML
# tag, an entity): a line without any of them is text and bare URLs only.
_OTHER_RULES = re.compile(r"[\\`~*_\[<&]")


def _linkify_of(parser: MarkdownIt) -> Any:  # linkify-it-py has no types
    assert parser.linkify is not None, "linkify-it-py is a dependency"
    return parser.linkify


_LINKIFY = _linkify_of(PARSER)


# The plainest bare URL: ``http(s)://``, a host of ASCII letters and digits in dotted labels of at
# most 63, a port of at most four digits, a path of characters that linkify-it's path takes
# whatever follows them (``.``, ``?`` and ``-`` only before one of those), and then a space, the
# end, or one closing ``.,!?;`` before them. linkify-it's own validation of such a URL takes all
# of it (its host, port, host terminator and path rules, case-insensitive over all of Unicode: a
# fifth of a link send's instructions); tests/chat/conversations/test_links.py holds the two equal.
_PLAIN_PATH_CHAR = "[A-Za-z0-9/_~%=&+#@$]"
_PLAIN_URL = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9]{1,63}(?:\.[A-Za-z0-9]{1,63})*(?::[0-9]{1,4})?"
    rf"(?:/{_PLAIN_PATH_CHAR}*(?:[.?-]{_PLAIN_PATH_CHAR}+)*)?"
    r"(?=[.,!?;]?(?: |\Z))"
)
_SCHEME_CHARS = frozenset(string.ascii_letters + string.digits + ".+-")


def _plain_url_at(src: str, pending: int, colon: int) -> str | None:
    """The bare URL whose ``://`` is at ``colon``, if it is of the plainest kind (``_PLAIN_URL``)
    and its scheme is all of the scheme the inline rule would read (``SCHEME_RE`` over the pending
    text ``src[pending:colon]``); None when linkify-it must decide."""
    start = colon - 5 if src[colon - 5 : colon].lower() == "https" else colon - 4
    if start < pending or (start > pending and src[start - 1] in _SCHEME_CHARS):
        return None
    match = _PLAIN_URL.match(src, start)
    return match.group() if match is not None else None


# Splits a line into its texts and its plainest bare URLs (a URL right after a scheme character
# would be read with it as one scheme: not split there, and the ``://`` stays in a text).
# (The look behind follows the first letter: a pattern that starts with a character set is
# searched for by skipping to that set's characters, not tried at every position.)
_PLAIN_URL_SPLIT = re.compile(rf"([Hh](?<![A-Za-z0-9.+-][Hh]){_PLAIN_URL.pattern[4:]})")
# What a text between such URLs must not hold for the line to be those URLs and plain text: a line
# break or NUL, a character of ``_OTHER_RULES``, ``//`` and ``mailto:``. Of linkify-it's schemas
# (``test_linkify_knows_no_scheme_without_a_colon_but_slashes``) every other one needs ``//`` after
# its colon (``http:``, ``https:``, ``ftp:``), as does the inline rule (``://``): a text without
# either is text to both rules, whatever colons it has (a time, "Note:").
_NOT_PLAIN_TEXT = re.compile(r"[\n\r\0\\`~*_\[<&]|//|(?i:mailto:)")


def _plain_line_hrefs(body: str) -> list[str] | None:
    """The hrefs of the commonest body with a link, a line of words and plain bare URLs
    (``_PLAIN_URL``): the ``_one_line_hrefs`` of such a line, without stepping through it.

    Such a line starts with a letter; split at its plain URLs, its texts hold no character of
    ``_NOT_PLAIN_TEXT``. Each text is then text to the inline parse, and to linkify-it's core
    rule too (no scheme without ``:`` or ``//``); each URL is the inline linkify rule's link, and its
    href the URL itself (every character is one normalisation keeps, but for ``%``; an http(s) URL is
    always valid). None for any other body (``_one_line_hrefs`` decides).
    """
    if not body[:1].isalpha():
        return None
    parts = _PLAIN_URL_SPLIT.split(body.strip())
    if len(parts) == 3:  # one URL (the commonest): no joins, no loop
        if _NOT_PLAIN_TEXT.search(parts[0] + parts[2]):
            return None
        url = parts[1]
        return [PARSER.normalizeLink(url) if "%" in url else url]
    if len(parts) == 1 or _NOT_PLAIN_TEXT.search("".join(parts[::2])):
        return None
    return [PARSER.normalizeLink(url) if "%" in url else url for url in parts[1::2]]


def _one_line_hrefs(body: str) -> list[str] | None:
    """The hrefs ``PARSER`` finds in a body of one line that is one paragraph of text and bare
    URLs (most bodies with a link), found with the parser's own steps, not its token machinery;
    None for any other body (the caller parses it).

    Such a line: its first character is a letter (no block starts with one, and no indent makes it
    code), no line break (``\\n``, ``\\r``) nor NUL (the normaliser's), and outside the URLs the
    inline ``linkify`` rule takes none of the characters of ``_OTHER_RULES``. Then the inline parse
    is the ``text`` rule and the ``linkify`` rule at each ``://`` that follows a scheme (the
    pending text before it), as ``markdown_it.rules_inline.linkify`` does it; and the core
    ``linkify`` rule then looks at each text between those links (``markdown_it.rules_core.linkify``).
    The differential test (tests/chat/conversations/test_links.py) holds this to the full parse.
    """
    if not body[:1].isalpha() or "\n" in body or "\r" in body or "\0" in body:
        return None
    src = body.strip()  # the paragraph's content
    texts: list[str] = []  # the text tokens between the inline rule's links
    inline: list[str] = []  # the hrefs of those links, texts[i] before inline[i]
    pending = pos = 0
    while (colon := src.find("://", pos)) >= 0:
        pos = colon + 1
        url = _plain_url_at(src, pending, colon)
        if url is not None:
            start = colon - (5 if url[4] in "sS" else 4)
        else:
            scheme = SCHEME_RE.search(src[pending:colon])
            if scheme is None:
                continue
            start = colon - len(scheme.group(1))
            match = _LINKIFY.match_at_start(src[start:])
            if match is None:
                continue
            url = match.url.rstrip("*")
        href = PARSER.normalizeLink(url)
        if start + len(url) <= colon:
            return None  # (cannot be: a rule that does not move the parser on; the parse decides)
        if not PARSER.validateLink(href):
            continue
        texts.append(src[pending:start])
        inline.append(href)
        pending = pos = start + len(url)
    texts.append(src[pending:])
    if any(_OTHER_RULES.search(text) for text in texts):
        return None
    hrefs: list[str] = []
    # Every schema linkify-it knows ends in ":" or is "//", and nothing fuzzy is on: a text with
    # neither cannot hold a link (the common case: no test at all).
    core = any(":" in text or "//" in text for text in texts) and _LINKIFY.pretest(src)
    for index, text in enumerate(texts):
        if core and (":" in text or "//" in text) and _LINKIFY.test(text):
            for match in _LINKIFY.match(text) or ():
                href = PARSER.normalizeLink(match.url)
                if PARSER.validateLink(href):
                    hrefs.append(href)
        if index < len(inline):
            hrefs.append(inline[index])
    return hrefs
