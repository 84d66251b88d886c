"""The web page: ``web/`` at ``/`` and the socket.io-client bundle from npm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope


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
            known = any(r.matches(scope)[0] == Match.PARTIAL for r in self.routes if not isinstance(r, Mount))
            raise HTTPException(status_code=405 if known else 404)
        return await super().get_response(path, scope)

    def __repr__(self) -> str:
        return f"PageFiles({self.directory!r})"


def mount_web(app: FastAPI, web_dir: Path) -> None:
    """Mount last: API routes win over files. A missing bundle is a 404 the page explains."""
    dist = web_dir / "node_modules" / "socket.io-client" / "dist"
    vendor = PageFiles(routes=app.routes, directory=dist, check_dir=False)
    app.mount("/vendor/socket.io-client", vendor, name="vendor")
    if web_dir.is_dir():
        app.mount("/", PageFiles(routes=app.routes, directory=web_dir, html=True), name="web")
