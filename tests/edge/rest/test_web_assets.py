"""Serving without ``web/node_modules``: every page that needs an npm package says how to install
it, with a fitting status and no traceback; and the access log names the page and its files."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.edge.sio.logs import captured
from tests.support import WAIT, running
from tests.support import test_settings as make_settings

WEB = Path(__file__).resolve().parents[3] / "web"


class RequestLog(logging.Handler):
    """The access log's records; ``count`` waits (on an event, not a clock) until ``n`` are in.

    The server logs a request after its response went out, so a client can see the answer first.
    """

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.grew = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "request":
            self.records.append(record)
            self.grew.set()

    async def count(self, n: int) -> list[logging.LogRecord]:
        async def enough() -> None:
            while len(self.records) < n:
                self.grew.clear()
                await self.grew.wait()

        await asyncio.wait_for(enough(), WAIT)
        return self.records


@contextmanager
def access_log() -> Iterator[RequestLog]:
    handler = RequestLog()
    logger = logging.getLogger("parley.http")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def bare_web(tmp_path: Path) -> Path:
    """A copy of web/ as a fresh clone has it, before `make install`."""
    copy = tmp_path / "web"
    shutil.copytree(WEB, copy, ignore=shutil.ignore_patterns("node_modules"))
    return copy


@pytest.mark.parametrize(
    ("path", "package"),
    [
        ("/vendor/socket.io-client/socket.io.esm.min.js", "socket.io-client"),
        ("/vendor/swagger-ui/swagger-ui-bundle.js", "swagger-ui"),
        ("/vendor/redoc/redoc.standalone.js", "redoc"),
        ("/vendor/markdown-it/markdown-it.min.js", "markdown-it"),
        ("/vendor/markdown-it-emoji/index.mjs", "markdown-it-emoji"),
        ("/vendor/dompurify/purify.es.mjs", "dompurify"),
        ("/vendor/highlight.js/es/highlight.min.js", "@highlightjs/cdn-assets"),
    ],
)
async def test_a_missing_package_file_is_a_404_naming_the_fix_without_a_traceback(
    tmp_path, bare_web, path, package
):
    async with running(make_settings(tmp_path / "data", web_dir=bare_web)) as server:
        with captured() as logs, access_log() as requests:
            response = await server.http.get(path)
            page = await server.http.get("/")
            assert [r.status for r in await requests.count(2)] == [404, 200]
        assert response.status_code == 404
        assert package in response.text and "make install" in response.text
        assert page.status_code == 200 and "/js/app.js" in page.text  # the page that explains it
        assert logs.tracebacks() == []


@pytest.mark.parametrize(("path", "package"), [("/docs", "swagger-ui-dist"), ("/redoc", "redoc")])
async def test_the_api_docs_without_their_package_explain_how_to_install_it(
    tmp_path, bare_web, path, package
):
    async with running(make_settings(tmp_path / "data", web_dir=bare_web)) as server:
        with captured() as logs, access_log() as requests:
            response = await server.http.get(path)
            await requests.count(1)  # logged after the answer went out
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert package in response.text and "make install" in response.text
        assert logs.tracebacks() == []


async def test_the_admin_ui_without_its_package_explains_how_to_install_it(tmp_path, bare_web):
    settings = make_settings(
        tmp_path / "data", web_dir=bare_web, admin_ui=True, admin_password="tangerine-kettle-49"
    )
    async with running(settings) as server:
        with captured() as logs, access_log() as requests:
            index = await server.http.get("/admin/")
            asset = await server.http.get("/admin/js/app.js")
            await requests.count(2)
        assert index.status_code == 503 and "@socket.io/admin-ui" in index.text
        assert asset.status_code == 404 and "make install" in asset.text
        assert logs.tracebacks() == []


async def test_the_access_log_names_the_page_its_files_and_the_routes(live_server):
    paths = {
        "/": "/",
        "/index.html": "static",
        "/js/app.js": "static",
        "/vendor/socket.io-client/socket.io.esm.min.js": "static",
        "/openapi.json": "/openapi.json",
        "/docs": "/docs",
        "/healthz": "/healthz",
        "/api/users/someone": "/api/users/{username}",
        "/no-such-file.js": "unmatched",
        "/api/nope": "unmatched",
    }
    with access_log() as requests:
        for n, path in enumerate(paths, start=1):
            await live_server.http.get(path)
            records = await requests.count(n)  # each record is written after its response
    assert [r.route for r in records] == list(paths.values())
