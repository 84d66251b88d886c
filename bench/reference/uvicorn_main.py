"""How the Python reference servers run: uvicorn as ``parley serve`` runs it, on a port printed first.

``plain_sio.py`` and ``floor_asgi.py`` are scripts (``python bench/reference/NAME.py [PORT]``), so
this directory is first on their import path. ``bench.compare`` reads the port from the first line
of standard output (0 picks a free one).
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
import uvloop


def serve(app: Any, **options: Any) -> None:
    """Bind 127.0.0.1:PORT (argv[1], 0 by default), print the port, serve ``app`` until stopped:
    uvloop, httptools, websockets-sansio, no per-message deflate, warnings only; ``options``
    add to or replace these."""
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sys.stdout.write(f"{sock.getsockname()[1]}\n")
    sys.stdout.flush()
    settings: dict[str, Any] = {
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "off",
    }
    uvloop.run(uvicorn.Server(uvicorn.Config(app, **{**settings, **options})).serve(sockets=[sock]))
