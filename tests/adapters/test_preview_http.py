"""The link previews' fetcher (PROTOCOL.md section 13): HttpPageSource against a real web site, an
aiohttp server on 127.0.0.1 (port 0) that records every request it gets and what it wrote."""

from __future__ import annotations

import asyncio
import gzip
import io
import ipaddress
import logging
import struct
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from functools import cache

import httpx
import pytest
from aiohttp import web
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from server.adapters.preview_http import USER_AGENT, HttpPageSource, decode
from server.adapters.webhook_http import AddressGuard, pinned
from server.chat.previews.ports import Page

MiB = 1 << 20
HUGE = 20 * MiB
CHUNK = 64 * 1024

OG_PAGE = (
    "<!doctype html><html><head>"
    '<meta property="og:title" content="Open &amp; Graph">'
    '<meta property="og:description" content="  What\n it says ">'
    '<meta property="og:site_name" content="The Site">'
    '<meta property="og:image" content="pictures/card.png">'
    "<title>Not this</title></head><body>x</body></html>"
)
TWITTER_PAGE = (
    '<html><head><meta name="twitter:card" content="summary">'
    '<meta name="twitter:title" content="Card">'
    '<meta name="twitter:description" content="Card text">'
    '<meta name="twitter:image" content="https://img.example/c.jpg"></head></html>'
)
TITLE_PAGE = "<html><head><title>\n  Only a   title\n</title></head><body><p>Hi</p></body></html>"
NO_TITLE_PAGE = "<html><head><meta name=description content=nothing></head><body><h1>H</h1></body></html>"


@cache
def gzip_bomb() -> bytes:
    """A titled page of 20 MiB, mostly spaces, in about 20 KiB of gzip."""
    return gzip.compress(b"<title>Bomb</title>" + b" " * HUGE, 9)


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` white-on-nothing pixels: a few KiB of file that
    decodes to width*height bytes in Pillow (a decompression bomb when that is large)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Comment", "secret comment")
    out = io.BytesIO()
    Image.new("RGBA", (1600, 1200), (10, 200, 30, 255)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    """1200x800 as stored, EXIF orientation 6 (shown rotated: 800x1200), a camera and a GPS tag."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90
    exif[0x010F] = "Parley Test Camera"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0)}  # GPS IFD: latitude
    out = io.BytesIO()
    Image.new("RGB", (1200, 800), (200, 10, 10)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("P", (100, 50), color) for color in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), (1, 2, 3)).save(out, format="WEBP")
    return out.getvalue()


class Site:
    """The linked web site: records each request's path and headers, and what /huge wrote."""

    def __init__(self) -> None:
        self.port = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.written = 0
        self.disconnected = False
        self.huge_done = asyncio.Event()
        self.closing = asyncio.Event()
        self.files: dict[str, bytes] = {}

    @property
    def paths(self) -> list[str]:
        return [path for path, _headers in self.requests]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        path = request.path
        pages = {"/og": OG_PAGE, "/twitter": TWITTER_PAGE, "/title": TITLE_PAGE, "/no-title": NO_TITLE_PAGE}
        if path in pages or path == "/articles/og":
            return web.Response(text=pages.get(path, OG_PAGE), content_type="text/html")
        if path == "/xhtml":
            return web.Response(body=TITLE_PAGE.encode(), headers={"Content-Type": "application/xhtml+xml"})
        if path == "/json":
            return web.json_response({"title": "JSON is no page"})
        if path == "/missing":
            return web.Response(text=TITLE_PAGE, status=404, content_type="text/html")
        if path == "/latin1":
            body = "<title>Café crème</title>".encode("latin-1")
            return web.Response(body=body, headers={"Content-Type": "text/html; charset=ISO-8859-1"})
        if path == "/meta-charset":
            body = '<meta charset="windows-1252"><title>Na\u00efve \u2019quote\u2019</title>'.encode("cp1252")
            return web.Response(body=body, headers={"Content-Type": "text/html"})
        if path.startswith("/r/"):
            left = int(path.removeprefix("/r/"))
            if left == 0:
                return web.Response(text=OG_PAGE, content_type="text/html")
            # alternately relative and absolute, as sites do
            target = f"/r/{left - 1}" if left % 2 else f"http://127.0.0.1:{self.port}/r/{left - 1}"
            return web.Response(status=302 if left % 2 else 301, headers={"Location": target})
        if path == "/to-articles":
            return web.Response(status=307, headers={"Location": "articles/og#fragment"})
        if path == "/to-ip":
            return web.Response(status=302, headers={"Location": f"http://127.0.0.1:{self.port}/og"})
        if path == "/to-ftp":
            return web.Response(status=302, headers={"Location": "ftp://127.0.0.1/og"})
        if path == "/slow":
            return await self.slow(request)
        if path == "/huge":
            return await self.huge(request)
        if path == "/gzip-bomb":
            headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
            return web.Response(body=gzip_bomb(), headers=headers)
        if path == "/gzip":
            body = gzip.compress(OG_PAGE.encode())
            return web.Response(body=body, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
        if path.startswith("/files/"):
            return web.Response(body=self.files[path.removeprefix("/files/")], content_type="image/png")
        return web.Response(status=404)

    async def slow(self, request: web.Request) -> web.StreamResponse:
        """Headers at once, then a byte every 50 ms for ever (until the client or the test leaves)."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(b"<html><head><title>Slow</title>")
        try:
            while not self.closing.is_set():
                await asyncio.sleep(0.05)
                await response.write(b" ")
        except ConnectionError:
            pass
        return response

    async def huge(self, request: web.Request) -> web.StreamResponse:
        """20 MiB of HTML in 64 KiB chunks, no Content-Length: counts what it managed to write."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        chunk = b"<p>" + b"x" * (CHUNK - 3)
        try:
            await response.write(b"<title>Huge</title>")  # a good page, but for its size
            while self.written < HUGE:
                await response.write(chunk)
                self.written += len(chunk)
        except ConnectionError:
            self.disconnected = True
        finally:
            self.huge_done.set()
        return response


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    site = Site()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", site.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    server = tcp._server
    assert server is not None
    site.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield site
    finally:
        site.closing.set()
        await runner.cleanup()


@pytest.fixture
async def source() -> AsyncIterator[HttpPageSource]:
    source = HttpPageSource(AddressGuard(allow_hosts=["127.0.0.1"]), timeout=5.0)
    try:
        yield source
    finally:
        await source.close()


def at(site: Site, path: str) -> str:
    return f"http://127.0.0.1:{site.port}{path}"


def no_preview_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "parley.previews"]


async def test_an_open_graph_page(site, source):
    page = await source.page(at(site, "/og"))
    image = f"http://127.0.0.1:{site.port}/pictures/card.png"
    assert page == Page("Open & Graph", "What it says", "The Site", image)
    ((_path, headers),) = site.requests
    assert headers["User-Agent"] == USER_AGENT and "text/html" in headers["Accept"]
    assert headers["Host"] == f"127.0.0.1:{site.port}"


async def test_a_twitter_card_page(site, source):
    page = await source.page(at(site, "/twitter"))
    assert page == Page("Card", "Card text", "", "https://img.example/c.jpg")


async def test_a_page_with_only_a_title(site, source):
    assert await source.page(at(site, "/title")) == Page("Only a title", "", "", None)
    assert await source.page(at(site, "/xhtml")) == Page("Only a title", "", "", None)


async def test_a_page_without_a_title_gives_none_and_one_log_line(site, source, caplog):
    caplog.set_level(logging.INFO, logger="parley.previews")
    assert await source.page(at(site, "/no-title")) is None
    (record,) = no_preview_lines(caplog)
    assert record.levelno == logging.INFO and record.exc_info is None
    assert "127.0.0.1" in record.getMessage() and "title" in record.getMessage()


async def test_not_html_gives_none(site, source, caplog):
    caplog.set_level(logging.INFO, logger="parley.previews")
    assert await source.page(at(site, "/json")) is None
    (record,) = no_preview_lines(caplog)
    assert "application/json" in record.getMessage()


async def test_a_status_other_than_2xx_gives_none(site, source):
    assert await source.page(at(site, "/missing")) is None


async def test_the_charset_comes_from_the_header_else_from_meta(site, source):
    latin = await source.page(at(site, "/latin1"))
    assert latin is not None and latin.title == "Café crème"
    sniffed = await source.page(at(site, "/meta-charset"))
    assert sniffed is not None and sniffed.title == "Na\u00efve \u2019quote\u2019"


def test_decoding_defaults_to_utf8_with_replacement_and_ignores_unknown_charsets():
    assert decode("é".encode() + b"\xff", None) == "é\ufffd"
    assert decode("é".encode(), "no-such-charset") == "é"
    assert decode("é".encode(), "base64") == "é"  # a codec, but not a charset
    assert decode(b"\xef\xbb\xbf<title>x</title>", "latin-1") == "<title>x</title>"  # the BOM wins
    assert decode(b'<meta charset="utf-16"><title>x</title>', None).endswith("<title>x</title>")


async def test_a_gzip_page_is_inflated(site, source):
    page = await source.page(at(site, "/gzip"))
    assert page is not None and page.title == "Open & Graph"


async def test_a_slow_page_stops_at_the_timeout(site):
    source = HttpPageSource(AddressGuard(allow_hosts=["127.0.0.1"]), timeout=0.5)
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        page = await source.page(at(site, "/slow"))
        elapsed = loop.time() - started
    finally:
        await source.close()
    assert page is None
    assert 0.4 <= elapsed < 1.5


async def test_a_huge_page_is_not_read_past_the_cap(site, source, caplog):
    caplog.set_level(logging.INFO, logger="parley.previews")
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        page = await source.page(at(site, "/huge"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert page is None
    assert peak - before < 1 * MiB + 3 * MiB  # the cap, a chunk, and the site's own buffers
    await asyncio.wait_for(site.huge_done.wait(), 10)
    assert site.disconnected and site.written < HUGE
    (record,) = no_preview_lines(caplog)
    assert f"more than {MiB} bytes" in record.getMessage()


async def test_a_gzip_bomb_is_inflated_only_to_the_cap(site, source):
    assert len(gzip_bomb()) < 100 * 1024  # made before measuring: the site's work is not the client's
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        page = await source.page(at(site, "/gzip-bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert page is None
    assert peak - before < 1 * MiB + 3 * MiB


async def test_three_redirects_are_followed(site, source):
    page = await source.page(at(site, "/r/3"))
    assert page is not None and page.title == "Open & Graph"
    assert site.paths == ["/r/3", "/r/2", "/r/1", "/r/0"]


async def test_a_fourth_redirect_gives_none_and_is_not_followed(site, source):
    assert await source.page(at(site, "/r/4")) is None
    assert site.paths == ["/r/4", "/r/3", "/r/2", "/r/1"]


async def test_relative_urls_are_resolved_against_the_url_after_redirects(site, source):
    page = await source.page(at(site, "/to-articles"))
    assert page is not None and page.image_url == f"http://127.0.0.1:{site.port}/articles/pictures/card.png"
    assert site.paths == ["/to-articles", "/articles/og"]


async def test_a_redirect_to_another_scheme_gives_none(site, source):
    assert await source.page(at(site, "/to-ftp")) is None
    assert site.paths == ["/to-ftp"]


async def test_a_redirect_from_an_allowed_host_to_a_refused_address_is_not_followed(site, caplog):
    caplog.set_level(logging.INFO, logger="parley.previews")
    source = HttpPageSource(AddressGuard(allow_hosts=["localhost"]))
    try:
        assert await source.page(f"http://localhost:{site.port}/to-ip") is None
    finally:
        await source.close()
    assert site.paths == ["/to-ip"]  # /og, on 127.0.0.1, was never asked for
    assert site.requests[0][1]["Host"] == f"localhost:{site.port}"  # the checked address, the name's Host
    (record,) = no_preview_lines(caplog)
    assert "localhost" in record.getMessage() and "127.0.0.1" in record.getMessage()


async def test_a_name_that_resolves_to_a_refused_address_is_not_fetched(site):
    source = HttpPageSource(AddressGuard(allow_hosts=[]))
    try:
        assert await source.page(f"http://localhost:{site.port}/og") is None
        assert await source.page(at(site, "/og")) is None
        assert await source.picture(at(site, "/files/photo.png")) is None
    finally:
        await source.close()
    assert site.requests == []


@pytest.mark.parametrize(
    "url",
    ["", "not a url", "ftp://127.0.0.1/x", "http://[::1", "javascript:alert(1)", "http://no-such.invalid/"],
)
async def test_bad_urls_give_none(source, url):
    assert await source.page(url) is None
    assert await source.picture(url) is None


@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (8000, 8000)])
async def test_an_image_bomb_gives_none(site, source, width, height):
    site.files["bomb.png"] = png_claiming(width, height)
    assert len(site.files["bomb.png"]) < 200 * 1024  # a small file that would decode to 64 MB or more
    assert await source.picture(at(site, "/files/bomb.png")) is None


async def test_a_png_is_shrunk_to_640_wide_without_its_metadata(site, source):
    site.files["photo.png"] = png_with_text()
    picture = await source.picture(at(site, "/files/photo.png"))
    assert picture is not None
    assert (picture.content_type, picture.width, picture.height) == ("image/png", 640, 480)
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.format == "PNG" and image.size == (640, 480)
        assert "Comment" not in image.info and "exif" not in image.info and not image.getexif()


async def test_a_jpeg_is_turned_upright_and_loses_its_exif(site, source):
    site.files["photo.jpg"] = jpeg_with_exif()
    with Image.open(io.BytesIO(site.files["photo.jpg"])) as original:
        assert original.getexif()[0x010F] == "Parley Test Camera"  # the test's input has EXIF
    picture = await source.picture(at(site, "/files/photo.jpg"))
    assert picture is not None
    assert (picture.content_type, picture.width, picture.height) == ("image/jpeg", 640, 960)
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.format == "JPEG" and image.size == (640, 960)
        assert "exif" not in image.info and not image.getexif()
        assert b"Parley Test Camera" not in picture.data


async def test_a_small_picture_is_not_enlarged_and_gif_and_webp_become_png(site, source):
    site.files["anim.gif"] = animated_gif()
    site.files["small.webp"] = webp()
    gif = await source.picture(at(site, "/files/anim.gif"))
    assert gif is not None and (gif.content_type, gif.width, gif.height) == ("image/png", 100, 50)
    with Image.open(io.BytesIO(gif.data)) as image:
        assert image.format == "PNG" and getattr(image, "n_frames", 1) == 1
    small = await source.picture(at(site, "/files/small.webp"))
    assert small is not None and (small.content_type, small.width, small.height) == ("image/png", 64, 32)


async def test_a_very_tall_picture_is_bounded_in_height(site, source):
    out = io.BytesIO()
    Image.new("L", (100, 5000)).save(out, format="PNG")
    site.files["tall.png"] = out.getvalue()
    picture = await source.picture(at(site, "/files/tall.png"))
    assert picture is not None and (picture.width, picture.height) == (51, 2560)


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        OG_PAGE.encode(),
        b"BM" + bytes(100),  # a BMP header: a picture, but not one of the four types
        png_with_text()[:200],  # a PNG cut short
    ],
)
async def test_what_is_not_a_png_jpeg_gif_or_webp_gives_none(site, source, data):
    site.files["thing"] = data
    assert await source.picture(at(site, "/files/thing")) is None


async def test_a_picture_over_its_cap_gives_none(site, caplog):
    caplog.set_level(logging.INFO, logger="parley.previews")
    site.files["photo.png"] = png_with_text()
    source = HttpPageSource(AddressGuard(allow_hosts=["127.0.0.1"]), picture_bytes=1024)
    try:
        assert await source.picture(at(site, "/files/photo.png")) is None
    finally:
        await source.close()
    (record,) = no_preview_lines(caplog)
    assert "more than 1024" in record.getMessage()  # its Content-Length said so: nothing read


IDN = "xn--mnchen-3ya.example"


@pytest.mark.parametrize(
    ("url", "address", "host", "sni"),
    [
        ("https://M\u00fcnchen.example:8443/x", "93.184.216.34", f"{IDN}:8443", IDN),
        ("http://example.com/x", "93.184.216.34", "example.com", None),
        ("https://[2606:4700::1]/x", "2606:4700::1", "[2606:4700::1]", "2606:4700::1"),
    ],
)
def test_a_request_is_pinned_to_the_checked_address_with_the_ascii_host(url, address, host, sni):
    target, header, extensions = pinned(httpx.URL(url), ipaddress.ip_address(address))
    assert target.host == address and target.path == "/x"
    assert header == host and extensions.get("sni_hostname") == sni
