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

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


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
        return await super().get_response(path, scope)

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


def mount_web(app: FastAPI, web_dir: Path) -> None:
    """Mount last: API routes win over files. A missing bundle is a 404 the page explains."""
    dist = web_dir / "node_modules" / "socket.io-client" / "dist"
    vendor = PageFiles(routes=app.routes, directory=dist, check_dir=False)
    app.mount("/vendor/socket.io-client", vendor, name="vendor")
    if web_dir.is_dir():
        app.mount("/", PageFiles(routes=app.routes, directory=web_dir, html=True), name="web")
