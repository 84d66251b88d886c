"""Image files (PROTOCOL.md section 11): their size as shown and a small thumbnail.

Pillow decodes untrusted bytes, so: ``inspect`` runs in a worker thread (never on the event loop),
a picture of more than ``MAX_PIXELS`` is refused before decoding (Pillow's decompression-bomb
limit; its warning zone counts as refused too), and any decoding error makes the file a plain one
(``None``). Width and height are after EXIF orientation; the thumbnail is at most 320 pixels wide
(never enlarged) and is a new image without any of the original's metadata (no EXIF: no GPS).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps

TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_PIXELS = 50_000_000
THUMBNAIL_WIDTH = 320
THUMBNAIL_HEIGHT = 4 * THUMBNAIL_WIDTH  # a very tall picture is cut down too


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    thumbnail: bytes  # PNG, or JPEG for a JPEG


def inspect(path: Path, content_type: str) -> Picture | None:
    """Size and thumbnail of the image at ``path``; None when it cannot (or may not) be decoded."""
    upright = decode(path)
    if upright is None:
        return None
    width, height = upright.size
    try:
        upright.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT))
        return Picture(width, height, encode(upright, content_type == "image/jpeg"))
    except Exception:  # whatever the pixels make Pillow raise: a plain file
        return None


def decode(source: Path | IO[bytes], formats: tuple[str, ...] | None = None) -> Image.Image | None:
    """The picture's pixels, loaded and turned upright by its EXIF orientation (a GIF's first
    frame); None when it has more than ``MAX_PIXELS`` (checked from the header, before decoding)
    or cannot be decoded. ``formats`` limits the decoders Pillow may try (its names: ``PNG``...).
    Shared with the link previews' pictures (``server/adapters/preview_images.py``)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=formats) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    return None
                upright = ImageOps.exif_transpose(opened)
                return upright.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    except Exception:  # whatever the bytes make Pillow raise: not a picture
        return None


def encode(image: Image.Image, jpeg: bool) -> bytes:
    """The pixels alone, re-encoded: a fresh image carries no ``info`` (EXIF, XMP, comments)."""
    if jpeg:
        mode = "L" if image.mode == "L" else "RGB"
    else:
        mode = image.mode if image.mode in ("1", "L", "LA", "RGB", "RGBA") else "RGBA"
    pixels = image.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    clean.save(out, format="JPEG" if jpeg else "PNG", **({"quality": 85} if jpeg else {}))
    return out.getvalue()
