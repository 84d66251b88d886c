"""The web page: ``web/`` at ``/`` and the socket.io-client bundle from npm."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope


class PageFiles(StaticFiles):
    """Static files that answer 404 (not 405) to other methods: unknown routes stay 404."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=404, detail="Not Found")
        return await super().get_response(path, scope)

    def __repr__(self) -> str:
        return f"PageFiles({self.directory!r})"


def mount_web(app: FastAPI, web_dir: Path) -> None:
    """Mount last: API routes win over files. A missing bundle is a 404 the page explains."""
    dist = web_dir / "node_modules" / "socket.io-client" / "dist"
    app.mount("/vendor/socket.io-client", PageFiles(directory=dist, check_dir=False), name="vendor")
    if web_dir.is_dir():
        app.mount("/", PageFiles(directory=web_dir, html=True), name="web")
