"""Running uvicorn: the one place the command line reaches it, and our one ``uvicorn.Server`` override.

``parley serve`` logs its own line once the server listens, with the port it got (``--port 0``):
``AnnouncingServer`` overrides uvicorn's ``Server.startup`` (the step that runs the lifespan and
binds; it exits the process when either fails) and reads ``servers[0].sockets`` and ``started``.
uvicorn's own "running on" line is off (log level warning). Listed in ``CONTRACT.md``;
``tests/cli/test_serve.py`` fails if it stops working.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from typing import Any

import uvicorn


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server that calls ``on_listening`` with the bound port once it listens."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[int | None], None]) -> None:
        super().__init__(config)
        self.on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.on_listening(self.servers[0].sockets[0].getsockname()[1] if self.servers else None)


def serve_announcing(app: str, on_listening: Callable[[int | None], None], **options: Any) -> bool:
    """Serve the app factory ``app`` in this process until stopped; False if it never started.

    ``on_listening`` gets the bound port (None when uvicorn bound no server of its own).
    """
    server = AnnouncingServer(uvicorn.Config(app, factory=True, **options), on_listening)
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl+C is a normal stop
        server.run()
    return bool(server.started)


def run(app: Any, **options: Any) -> None:
    """``uvicorn.run``: an app, or an app factory's import path with ``factory=True`` (workers, reload)."""
    uvicorn.run(app, **options)
