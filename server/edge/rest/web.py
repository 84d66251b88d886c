"""The web page: ``web/`` at ``/``, and npm packages' files under ``/vendor/``.

The service worker ``/sw.js`` (section 15) is answered with ``Cache-Control: no-cache``: the
browser then checks it against the server at every update check, so a new version replaces the
installed one at once rather than after the HTTP cache's heuristic freshness runs out.

A package that is not installed answers 404 with a line saying how to install
it (the chat page explains the missing socket.io-client bundle itself); never
a 500 and a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
REVALIDATED = {"sw.js"}  # files under web/ always checked against the server (no-cache)
# URL under /vendor -> the package folder under web/node_modules that it serves.
VENDOR = {
    "socket.io-client": Path("socket.io-client") / "dist",
    "swagger-ui": Path("swagger-ui-dist"),
    "redoc": Path("redoc") / "bundles",
    # Message bodies as Markdown (web/js/markdown.js): browser-ready files only.
    "markdown-it": Path("markdown-it") / "dist",  # UMD
    "markdown-it-emoji": Path("markdown-it-emoji"),  # index.mjs and lib/: ES modules
    "dompurify": Path("dompurify") / "dist",
    "highlight.js": Path("@highlightjs") / "cdn-assets",  # es/ holds the ES module build
    # The emoji picker's data (web/js/emoji.js): en/compact.json, messages.json, shortcodes/.
    "emojibase-data": Path("emojibase-data"),
}


class PageFiles(StaticFiles):
    """Static files behind the API: other methods get 405 on an API path, 404 elsewhere.

    Mounted at ``/``, the file server sees every request no route took; plain
    StaticFiles would answer 405 to ``POST /api/nope``, which is not a route at all.
    """

    def __init__(self, *, routes: list[BaseRoute], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.routes = routes

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            allowed = await self._allowed(path, scope)
            if not allowed:
                raise HTTPException(status_code=404)
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(sorted(allowed))})
        response = await super().get_response(path, scope)
        if path in REVALIDATED:
            response.headers["Cache-Control"] = "no-cache"
        return response

    async def _allowed(self, path: str, scope: Scope) -> set[str]:
        """The methods of the API routes at this path, else GET and HEAD for a file here."""
        # Asked per method through ``matches``: FastAPI nests included routers differently by version.
        routes = [route for route in self.routes if not isinstance(route, Mount)]
        methods = {
            method
            for method in METHODS
            if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in routes)
        }
        if methods:
            return methods
        try:
            await super().get_response(path, {**scope, "method": "GET"})  # only looks the file up
        except HTTPException:
            return set()
        return {"GET", "HEAD"}

    def __repr__(self) -> str:
        return f"PageFiles({self.directory!r})"


class PackageFiles(PageFiles):
    """The files of one npm package; 404 with how to install it while it is not installed."""

    def __init__(self, *, package: str, **kwargs: Any) -> None:
        super().__init__(check_dir=False, **kwargs)
        self.package = package

    async def check_config(self) -> None:
        """Starlette raises (a 500) for a missing folder; here that is ``get_response``'s 404."""
        if self.installed():
            await super().check_config()

    def installed(self) -> bool:
        return self.directory is not None and Path(self.directory).is_dir()

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not self.installed():
            self.config_checked = False  # look again once it is installed
            message = (
                f"the npm package {self.package} is not installed: run `make install` (npm ci in web/)\n"
            )
            return PlainTextResponse(message, status_code=404)
        return await super().get_response(path, scope)


def package_files(app: FastAPI, web_dir: Path, folder: Path) -> PackageFiles:
    directory = web_dir / "node_modules" / folder
    scoped = folder.parts[0].startswith("@")  # "@scope/name"
    package = "/".join(folder.parts[:2]) if scoped else folder.parts[0]
    return PackageFiles(routes=app.routes, directory=directory, package=package)


def mount_web(app: FastAPI, web_dir: Path) -> None:
    """Mount last: API routes win over files. A missing bundle is a 404 the page explains."""
    for url, folder in VENDOR.items():
        app.mount(f"/vendor/{url}", package_files(app, web_dir, folder), name=f"vendor-{url}")
    if web_dir.is_dir():
        app.mount("/", PageFiles(routes=app.routes, directory=web_dir, html=True), name="web")
