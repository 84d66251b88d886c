"""A link preview's picture, made safe to serve (PROTOCOL.md section 13): ``reencode``.

The bytes come from any web site, so they are treated as the files' images are
(``server/chat/files/images.py``, whose ``shrink`` and ``encode`` this reuses): the type is what
the bytes say (``filetype``'s magic numbers), never the site's Content-Type, and only PNG, JPEG,
GIF and WebP pass, and Pillow may then use only that one decoder; a picture of more than
``MAX_PIXELS`` pixels or ``DECODED_BYTES`` decoded is refused from its header, before any decoding
(a decompression bomb); any decoding error gives no picture. What is served is a new image made of
the pixels alone, turned upright by its EXIF orientation, at most ``WIDTH`` pixels wide and
``HEIGHT`` high (never enlarged): no EXIF (no GPS position), no comments, no second frame. A JPEG
stays a JPEG (smaller for photographs); everything else becomes a PNG (an animation's first frame).

It is CPU work on untrusted bytes: the caller runs it in the pictures' own worker
(``server/chat/files/decoding.py``), never on the event loop nor beside bcrypt.
"""

from __future__ import annotations

import io

import filetype

from server.chat.files import images
from server.chat.previews.ports import Picture

WIDTH = 640
HEIGHT = 4 * WIDTH  # a very tall picture is cut down too
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


def reencode(data: bytes) -> Picture | None:
    """The picture ``data`` holds, re-encoded for a preview; None when it is not a PNG, JPEG,
    GIF or WebP, is too big or cannot be decoded."""
    kind = filetype.guess(data[:8192])
    sniffed = str(kind.mime) if kind is not None else ""
    if sniffed not in FORMATS:
        return None
    shrunk = images.shrink(io.BytesIO(data), (WIDTH, HEIGHT), formats=(FORMATS[sniffed],))
    if shrunk is None:
        return None
    picture = shrunk.image
    try:
        jpeg = sniffed == "image/jpeg"
        encoded = images.encode(picture, jpeg)
    except Exception:  # whatever the pixels make Pillow raise: no picture
        return None
    return Picture(encoded, "image/jpeg" if jpeg else "image/png", picture.width, picture.height)
