"""Images (PROTOCOL.md section 11): size after EXIF orientation, a thumbnail at most 320 pixels wide
with none of the original's metadata, and anything Pillow refuses (a decompression bomb, broken
bytes) a plain file."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from server.chat.files.images import inspect

GPS_IFD = 0x8825
ORIENTATION = 0x0112


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
