"""What a web page says about itself, for its link preview (PROTOCOL.md section 13): ``read_page``.

The page is parsed as a browser would (``selectolax``'s lexbor parser, an HTML5 one): so a
``<title>`` inside a comment or a script is text of those, not a title, and every attribute and
text has its character references decoded exactly once by the parser (``&amp;lt;b&amp;gt;``
is the text ``&lt;b&gt;``, ``&lt;b&gt;`` is the text ``<b>``: text, which every client shows as
such). Nothing is decoded a second time and no markup is interpreted afterwards.

Sources, first found wins: Open Graph (``og:title``, ``og:description``, ``og:site_name``,
``og:image``...), then Twitter card tags (``twitter:title``...), then ``<title>`` and
``<meta name="description">``. Open Graph says ``property=`` and Twitter ``name=``, but pages
mix them up, so both attributes are read for every key (compared without case). Texts are plain:
control characters and bidi overrides and isolates (those the body rule refuses, PROTOCOL.md
section 3) dropped, whitespace collapsed, cut to ``TITLE_LENGTH`` and ``DESCRIPTION_LENGTH``
characters with an ellipsis. A page without a title gives no preview; a
missing site name stays empty (none is made up from the host). The image URL is resolved against
the page's URL (the one after redirects) and kept only when it is ``http(s)`` (no
``javascript:``, ``data:`` or ``file:``); ``<base href>`` is not honoured (a preview needs no
more than the page's own URL).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from server.chat.kernel.schemas import BIDI_CONTROLS
from server.chat.previews.ports import Page

TITLE_LENGTH = 200
DESCRIPTION_LENGTH = 500
URL_LENGTH = 2048  # a longer image URL is not kept (it is stored with the preview)
ELLIPSIS = "…"

TITLES = ("og:title", "twitter:title")
DESCRIPTIONS = ("og:description", "twitter:description", "description")
IMAGES = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
FOREIGN = frozenset({"svg", "math"})  # an SVG's <title> is a tooltip, not the page's


def read_page(html: str, url: str) -> Page | None:
    """The preview ``html`` (fetched from ``url``) gives; None when it has no title."""
    tree = LexborHTMLParser(html)
    meta = _meta(tree)
    title = _first_text(meta, TITLES, TITLE_LENGTH) or plain(_title_element(tree), TITLE_LENGTH)
    if not title:
        return None
    return Page(
        title=title,
        description=_first_text(meta, DESCRIPTIONS, DESCRIPTION_LENGTH),
        site_name=_first_text(meta, ("og:site_name",), TITLE_LENGTH),
        image_url=_image_url(meta, url),
    )


def plain(text: str, length: int) -> str:
    """``text`` as one line of plain text of at most ``length`` characters, without the bidi
    controls a body may not hold (a site's text cannot be refused as a sender's is: they go)."""
    text = BIDI_CONTROLS.sub("", text)
    visible = "".join(char for char in text if unicodedata.category(char) != "Cc" or char.isspace())
    collapsed = " ".join(visible.split())
    if len(collapsed) <= length:
        return collapsed
    return collapsed[: length - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _meta(tree: LexborHTMLParser) -> dict[str, str]:
    """The first ``content`` of every ``<meta>`` key (``property`` or ``name``, lower case)."""
    found: dict[str, str] = {}
    for node in tree.css("meta"):
        attributes = node.attributes
        content = attributes.get("content")
        if content is None:
            continue
        for attribute in ("property", "name"):
            key = (attributes.get(attribute) or "").strip().lower()
            if key and key not in found:
                found[key] = content
    return found


def _first_text(meta: dict[str, str], keys: tuple[str, ...], length: int) -> str:
    for key in keys:
        text = plain(meta.get(key, ""), length)
        if text:
            return text
    return ""


def _title_element(tree: LexborHTMLParser) -> str:
    """The text of the document's ``<title>`` (the head's first, else the first outside SVG)."""
    head_title = tree.css_first("head > title")
    if head_title is not None:
        return head_title.text(deep=True)
    for node in tree.css("title"):
        if not _inside_foreign(node):
            return node.text(deep=True)
    return ""


def _inside_foreign(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in FOREIGN:
            return True
        parent = parent.parent
    return False


def _image_url(meta: dict[str, str], page_url: str) -> str | None:
    for key in IMAGES:
        raw = "".join(meta.get(key, "").split())  # a URL has no whitespace: what pages wrap, unwrap
        if not raw:
            continue
        try:
            if urlsplit(raw).scheme and not urlsplit(raw).netloc:
                continue  # "https:" alone, "javascript:..": not the page's own URL, not a picture
            absolute = urljoin(page_url, raw)
            parts = urlsplit(absolute)
        except ValueError:
            continue
        if parts.scheme in ("http", "https") and parts.hostname and len(absolute) <= URL_LENGTH:
            return absolute
    return None
