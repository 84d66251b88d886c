"""Image files (PROTOCOL.md section 11): their size as shown and a small thumbnail.

Pillow decodes untrusted bytes, so a picture is refused (``None``: a plain file, or a preview
without a picture) from its header, before anything is decoded, when it has more than
``MAX_PIXELS`` pixels (Pillow's decompression-bomb limit; its warning zone counts as refused too)
or when decoding and shrinking it would take more than ``DECODED_BYTES`` of memory
(``decoded_bytes``): a 7000 x 7000 16-bit RGBA PNG of zeros is 400 KB of file and 49 million
pixels, under the pixel limit, yet 196 MB decoded and 392 MB at the peak. Any
decoding error makes the file a plain one too.

Memory is spent once: a JPEG is decoded reduced (``draft``: libjpeg scales by 1/2, 1/4 or 1/8 while
decoding, to twice the thumbnail's size at least, so a 24 MP photo decodes to 1.5 MP), and the
picture is shrunk in its stored orientation, then turned upright (EXIF orientation) when small,
rather than hold the whole picture three times (decoded, turned, copied). The decode runs in the
pictures' own worker (``decoding.py``), never on the event loop nor in the default executor.

Width and height are the original's, after EXIF orientation; the thumbnail is at most 320 pixels
wide (never enlarged) and is a new image without any of the original's metadata (no EXIF: no GPS).
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
DECODED_BYTES = 128 << 20  # RGB up to 33 MP, RGBA up to 16 MP (a 5K screenshot); JPEG drafted
THUMBNAIL_WIDTH = 320
THUMBNAIL_HEIGHT = 4 * THUMBNAIL_WIDTH  # a very tall picture is cut down too
ORIENTATION = 0x0112  # the EXIF tag; 5 to 8 are turned a quarter, so width and height swap
# The peak of decoding and shrinking, in bytes a pixel: Pillow keeps 1 byte a pixel for the modes
# 1, L and P, 2 for I;16 and 4 for the others (RGB too); RGBA and LA are shrunk through a
# premultiplied copy (its resize: RGBa, La), so twice that. Measured on Pillow 13 (VmHWM, 3000 x
# 3000): PNG RGBA and LA 8.7, RGB 4.7, L and P 1.4; a JPEG drafted to a quarter 0.7.
BYTES_A_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "RGBA": 8, "LA": 8}  # else 4
# libwebp decodes a frame into buffers of its own before Pillow copies it: 17.4 bytes a pixel
# for RGB, 18.7 for RGBA.
EXTRA_BYTES_A_PIXEL = {"WEBP": 14}


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    thumbnail: bytes  # PNG, or JPEG for a JPEG


@dataclass(frozen=True)
class Shrunk:
    width: int  # the original's, upright
    height: int
    image: Image.Image  # upright, within the box asked for (never enlarged)


def inspect(path: Path, content_type: str) -> Picture | None:
    """Size and thumbnail of the image at ``path``; None when it cannot (or may not) be decoded."""
    shrunk = shrink(path, (THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT))
    if shrunk is None:
        return None
    try:
        return Picture(shrunk.width, shrunk.height, encode(shrunk.image, content_type == "image/jpeg"))
    except Exception:  # whatever the pixels make Pillow raise: a plain file
        return None


def shrink(
    source: Path | IO[bytes], box: tuple[int, int], formats: tuple[str, ...] | None = None
) -> Shrunk | None:
    """The picture made to fit ``box`` and turned upright (a GIF's first frame); None when it is
    past ``MAX_PIXELS`` or ``DECODED_BYTES`` (checked from the header, before decoding) or cannot
    be decoded. ``formats`` limits the decoders Pillow may try (its names: ``PNG``...). Shared with
    the link previews' pictures (``server/adapters/preview_images.py``)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=formats) as opened:
                return _shrunk(opened, box)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    except Exception:  # whatever the bytes make Pillow raise: not a picture
        return None


def _shrunk(opened: Image.Image, box: tuple[int, int]) -> Shrunk | None:
    width, height = opened.size
    if width * height > MAX_PIXELS:
        return None
    if opened.format == "JPEG":  # its EXIF is read with the header: no decoding yet
        fitted = _fitted(opened.size, _stored(box, _turned(opened)))
        opened.draft(None, (2 * fitted[0], 2 * fitted[1]))  # Pillow's own reducing gap
    if decoded_bytes(opened) > DECODED_BYTES:
        return None
    opened.load()
    turned = _turned(opened)  # a PNG's eXIf chunk may come after its pixels
    opened.thumbnail(_stored(box, turned))
    upright = ImageOps.exif_transpose(opened)
    return Shrunk(*((height, width) if turned else (width, height)), upright)


def decoded_bytes(opened: Image.Image) -> int:
    """The memory decoding and shrinking ``opened`` takes at its peak, from its header: by the mode
    Pillow decodes into (``BYTES_A_PIXEL``), whatever the file's bit depth (a 16-bit RGBA PNG is
    decoded into 8-bit RGBA), and more for a WebP (``EXTRA_BYTES_A_PIXEL``)."""
    per_pixel = BYTES_A_PIXEL.get(opened.mode, 4) + EXTRA_BYTES_A_PIXEL.get(opened.format or "", 0)
    return opened.width * opened.height * per_pixel


def _turned(image: Image.Image) -> bool:
    """Whether the EXIF orientation turns the picture a quarter (width and height swap)."""
    return image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8)


def _stored(box: tuple[int, int], turned: bool) -> tuple[int, int]:
    """The box an upright picture must fit, for the picture as stored."""
    return (box[1], box[0]) if turned else box


def _fitted(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The size a picture of ``size`` has once made to fit ``box`` (never enlarged)."""
    scale = min(box[0] / size[0], box[1] / size[1], 1.0)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


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
