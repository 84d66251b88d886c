"""Exports (server/chat/exports/; PROTOCOL.md section 16): where users' ZIPs are written."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel


class ExportsSettings(BaseModel):
    """The exports folder: default <files_dir>/exports, shared by the nodes like the files (the node
    that builds an export need not be the one that serves it)."""

    exports_dir: Path | None = None
