"""Images (PROTOCOL.md section 11): size after EXIF orientation, a thumbnail at most 320 pixels wide
with none of the original's metadata, and anything Pillow refuses (a decompression bomb, broken
bytes) a plain file. A picture past the pixel or the decoded-bytes budget is refused from its
header (issue 52): the test process's peak memory shows that nothing was decoded."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from server.chat.files.images import inspect
from tests.files_support import peak_memory, reset_peak_memory

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MiB = 1 << 20


def jpeg_with_exif(path: Path, width: int = 800, height: int = 600) -> None:
    """A JPEG that the camera held sideways (orientation 6: turn 90 degrees) and that says where."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    Image.new("RGB", (width, height), (10, 120, 200)).save(path, format="JPEG", exif=exif)


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (its data is one empty row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def zeros_png(side: int = 7000) -> bytes:
    """A PNG of ``side`` x ``side`` 16-bit RGBA pixels, all zero (bit depth 16, colour type 6): the
    issue's picture bomb, 400 KB of file that decodes fully (7000 x 7000 is under the 50 million
    pixels limit) into 196 MB of Pillow's RGBA. Its zlib stream is one deflated run of zero rows
    repeated, each run ending in a full flush (so each stands alone): made in milliseconds, where
    deflating the 392 MB of rows takes seconds."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = 1 + side * 8  # the filter byte, then 4 channels of 2 bytes
    rows_a_run = next(n for n in (100, 50, 10, 1) if side % n == 0)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    run = deflate.compress(bytes(row * rows_a_run)) + deflate.flush(zlib.Z_FULL_FLUSH)
    adler32 = (side * row % 65521) << 16 | 1  # of zeros only: a = 1, b = the length
    stream = b"\x78\xda" + run * (side // rows_a_run) + b"\x03\x00" + struct.pack(">I", adler32)
    header = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", stream) + chunk(b"IEND", b"")


def test_a_sideways_jpeg_is_measured_upright_and_its_thumbnail_keeps_no_exif(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    jpeg_with_exif(path)
    with Image.open(path) as original:
        assert original.getexif().get_ifd(GPS_IFD), "the test image has GPS"
    picture = inspect(path, "image/jpeg")
    assert picture is not None
    assert (picture.width, picture.height) == (600, 800)  # turned upright
    with Image.open(io.BytesIO(picture.thumbnail)) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (320, 427)
        exif = thumb.getexif()
        assert not exif.get_ifd(GPS_IFD)
        assert ORIENTATION not in exif
        assert "exif" not in thumb.info


@pytest.mark.parametrize(
    ("size", "expected"), [((1000, 500), (320, 160)), ((200, 100), (200, 100)), ((100, 4000), (32, 1280))]
)
def test_a_thumbnail_is_at_most_320_wide_and_never_enlarged(
    tmp_path: Path, size: tuple[int, int], expected: tuple[int, int]
) -> None:
    path = tmp_path / "a.png"
    Image.new("RGBA", size, (1, 2, 3, 128)).save(path, format="PNG")
    picture = inspect(path, "image/png")
    assert picture is not None
    assert (picture.width, picture.height) == size
    with Image.open(io.BytesIO(picture.thumbnail)) as thumb:
        assert thumb.format == "PNG"
        assert thumb.size == expected


@pytest.mark.parametrize("kind", ["GIF", "WEBP"])
def test_gif_and_webp_get_png_thumbnails(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"a.{kind.lower()}"
    Image.new("RGB", (640, 320), (9, 9, 9)).save(path, format=kind)
    picture = inspect(path, f"image/{kind.lower()}")
    assert picture is not None
    with Image.open(io.BytesIO(picture.thumbnail)) as thumb:
        assert (thumb.format, thumb.size) == ("PNG", (320, 160))


def test_a_decompression_bomb_is_a_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png())
    assert inspect(path, "image/png") is None


def test_just_over_the_pixel_limit_is_a_plain_file_too(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(bomb_png(10_000, 6_000))  # 60 million: Pillow would only warn
    assert inspect(path, "image/png") is None


def test_broken_image_bytes_are_a_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 100)
    assert inspect(path, "image/png") is None


def test_the_16_bit_rgba_bomb_under_the_pixel_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(zeros_png(7000))
    with Image.open(path) as header:
        assert (header.size, header.mode) == ((7000, 7000), "RGBA")  # 49 million pixels: under 50
    before = reset_peak_memory()
    assert inspect(path, "image/png") is None
    assert peak_memory() - before < 16 * MiB  # decoded, it took 196 MB three times over


def test_a_picture_under_the_budget_is_decoded_and_made_small(tmp_path: Path) -> None:
    path = tmp_path / "zeros.png"
    path.write_bytes(zeros_png(2000))  # 16 MB as RGBA
    picture = inspect(path, "image/png")
    assert picture is not None
    assert (picture.width, picture.height) == (2000, 2000)
    with Image.open(io.BytesIO(picture.thumbnail)) as thumb:
        assert thumb.size == (320, 320)
        assert thumb.getextrema() == ((0, 0),) * 4


def test_a_24_megapixel_photo_gets_its_thumbnail_from_a_reduced_decode(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (6000, 4000), (10, 120, 200)).save(path, format="JPEG")
    before = reset_peak_memory()
    picture = inspect(path, "image/jpeg")
    assert peak_memory() - before < 32 * MiB  # decoded whole: 96 MB (Pillow keeps RGB in 4 bytes)
    assert picture is not None
    assert (picture.width, picture.height) == (6000, 4000)
    with Image.open(io.BytesIO(picture.thumbnail)) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (320, 213))
