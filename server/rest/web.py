"""The web page: ``web/`` at ``/`` and the socket.io-client bundle from npm."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def mount_web(app: FastAPI, web_dir: Path) -> None:
    """Mount last: API routes win over files. A missing bundle is a 404 the page explains."""
    dist = web_dir / "node_modules" / "socket.io-client" / "dist"
    app.mount("/vendor/socket.io-client", StaticFiles(directory=dist, check_dir=False), name="vendor")
    if web_dir.is_dir():
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
