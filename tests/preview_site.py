"""A real web site for the link previews' end-to-end tests: an aiohttp server on 127.0.0.1, port 0.

It serves an Open Graph page whose picture is a PNG it also serves, a page with a title only, a
page without a title, and a page held until the test releases it (``held``); it counts the
requests of each path, so a test can say a URL was fetched once.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aiohttp import web
from PIL import Image

from server.chat.previews.worker import WAITS
from tests.support import LiveServer


def png(width: int = 1200, height: int = 630) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def og_page(title: str, image: str | None = "/card.png") -> str:
    picture = f'<meta property="og:image" content="{image}">' if image else ""
    return (
        "<!doctype html><html><head>"
        f'<meta property="og:title" content="{title}">'
        '<meta property="og:description" content="Notes &amp; plans for the release">'
        '<meta property="og:site_name" content="Example Notes">'
        f"{picture}<title>ignored</title></head><body>hi</body></html>"
    )


class Site:
    def __init__(self) -> None:
        self.url = ""
        self.hits: Counter[str] = Counter()
        self.release = asyncio.Event()  # ``/held`` answers once set
        self.arrived = asyncio.Event()  # ``/held`` was asked for
        self.picture = png()

    def at(self, path: str) -> str:
        return f"{self.url}{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] += 1
        if path == "/card.png":
            return web.Response(body=self.picture, content_type="image/png")
        if path == "/title-only":
            page = "<html><head><title>Just a title</title></head></html>"
            return web.Response(text=page, content_type="text/html")
        if path == "/no-title":
            return web.Response(text="<html><body>nothing</body></html>", content_type="text/html")
        if path == "/held":
            self.arrived.set()
            await self.release.wait()
            return web.Response(text=og_page("Held page", None), content_type="text/html")
        if path.startswith("/og"):
            return web.Response(text=og_page(f"Release notes {path}"), content_type="text/html")
        return web.Response(status=404)


@asynccontextmanager
async def serving() -> AsyncIterator[Site]:
    site = Site()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", site._handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    site.url = f"http://127.0.0.1:{port}"
    try:
        yield site
    finally:
        site.release.set()
        await runner.cleanup()


async def waiting(where: LiveServer) -> int:
    """Messages the server's previews queue holds: new ones still waiting (no previews yet) and jobs."""
    async with where.chat.db.read() as repos:
        return await repos.previews.waiting(datetime.now(UTC) - WAITS)
