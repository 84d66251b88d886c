"""What kind of text a file is (PROTOCOL.md section 11): ``filetype`` knows only binary signatures.

A file is text when its sniffed prefix (``HEAD_BYTES`` of the store, 8 KiB) is UTF-8 (a byte order
mark allowed, a character cut by the end of the prefix allowed) with no control character but tab,
line feed, form feed, carriage return and escape. Only UTF-8: bytes in another encoding (Latin-1,
UTF-16) cannot be told apart from binary without guessing, so they stay
``application/octet-stream`` rather than be served with a charset that would garble them.

The kind of text, from the most to the least certain:

- HTML and SVG by their markup at the start (after white space, an XML declaration, comments and
  a doctype), whatever the name; neither is ever served inline (``files.INLINE_TYPES``).
- JSON by parsing the whole file (an object or an array at the top, so that a file holding ``42``
  stays text), whatever the name. Parsing needs every byte, so it is bounded: a file larger than
  ``JSON_PARSE_MAX`` (1 MiB) is not parsed and is plain text. The parse runs in a worker thread.
- CSV and Markdown by their extension (``.csv``; ``.md``, ``.markdown``), the bytes being text.
- Anything else: ``text/plain``.

Text types carry ``charset=utf-8``; ``application/json`` (UTF-8 by definition, RFC 8259 defines no
charset) and ``image/svg+xml`` (XML says its own encoding) do not. The prefix decides text: a file
whose first 8 KiB are text and whose rest is not is still called text; it is served as an
attachment with ``nosniff`` like every non-image, so the label can mislead a reader, never a
browser into running it.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

PLAIN = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
CSV = "text/csv; charset=utf-8"
MARKDOWN = "text/markdown; charset=utf-8"
JSON = "application/json"
SVG = "image/svg+xml"
JSON_PARSE_MAX = 1024 * 1024  # bytes; a larger file is not parsed (plain text)
HEAD_LIMIT = 64 * 1024  # characters looked at for markup (the sniffed prefix is 8 KiB)
BY_EXTENSION = {"csv": CSV, "md": MARKDOWN, "markdown": MARKDOWN}
# C0 controls and DEL are binary, but tab, line feed, form feed, carriage return and escape (ANSI
# colours in logs); vertical tab too.
CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
# What may come before the root element: white space, comments, and for SVG an XML declaration or
# processing instructions and a doctype. Skipped by ``_prologue_end``, a loop of ``str.find`` calls
# that only moves forward: a pattern of repeated alternatives (``(?:\s+|<!--.*?-->)*``) backtracks
# exponentially on a prefix of white space, and the sniff runs on the event loop.
SKIPPED = {"<!--": "-->", "<?": "?>", "<!doctype": ">"}
HTML_SKIPPED = {"<!--": "-->"}
SVG_ROOT = re.compile(r"<svg[\s>/]", re.IGNORECASE)
HTML_START = re.compile(
    r"<!doctype\s+html[\s>]"
    r"|<(?:html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p|meta|link)[\s>/]",
    re.IGNORECASE,
)


def _prologue_end(text: str, skipped: dict[str, str]) -> int:
    """Where the first markup that is not ``skipped`` (an opening and its end) or white space
    starts; linear in the text's length."""
    at, lowered = 0, text[:HEAD_LIMIT].lower()
    while True:
        while at < len(lowered) and lowered[at].isspace():
            at += 1
        for opening, end in skipped.items():
            if lowered.startswith(opening, at):
                found = lowered.find(end, at + len(opening))
                if found < 0:
                    return len(lowered)  # unterminated: nothing after it to tell
                at = found + len(end)
                break
        else:
            return at


def text_of(head: bytes, complete: bool) -> str | None:
    """The prefix decoded when the file is UTF-8 text, else None. ``complete``: the prefix is the
    whole file (else a character cut at its end is not an error)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        return None
    if CONTROLS.search(text):
        return None
    return text


def kind(text: str, name: str) -> str:
    """The type of text known from its prefix and the file's name (JSON is ``parsed_json``'s)."""
    if SVG_ROOT.match(text, _prologue_end(text, SKIPPED)):
        return SVG
    if HTML_START.match(text, _prologue_end(text, HTML_SKIPPED)):
        return HTML
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    return BY_EXTENSION.get(extension, PLAIN)


def may_be_json(text: str, size: int) -> bool:
    """Worth parsing: an object or an array at the top, within the bound."""
    return size <= JSON_PARSE_MAX and text.lstrip()[:1] in ("{", "[")


def parsed_json(path: Path) -> bool:
    """The whole file parses as JSON (blocking: call it in a worker thread)."""
    try:
        json.loads(path.read_bytes().decode("utf-8-sig"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        return False
    except RecursionError:  # deeply nested arrays: not something we call JSON
        return False
    return True
