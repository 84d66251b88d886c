"""Custom emoji (PROTOCOL.md section 13): ``/emoji`` in the REPL and the one-shot
``python -m client_demo emoji [--json]`` list the workspace's custom emoji (``GET /api/emoji``),
one a line: ``:name: by adam`` (a terminal shows no picture). React with one as with any emoji:
``/react ID :name:`` or ``react ID :name:``.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from client_demo import api, render
from client_demo.connection import Connection
from client_demo.errors import EXIT_OK
from client_demo.models import field_list
from client_demo.output import out

HELP = """\
  /emoji                      list the workspace's custom emoji (react with /react ID :name:)"""

Handler = Callable[[str], Awaitable[None]]


async def listed(conn: Connection) -> list[Any]:
    data = await api.call(conn.url, "GET", "/api/emoji", conn.token)
    return [item for item in field_list(data, "emoji") if isinstance(item, dict)]


def line(item: dict[str, Any]) -> str:
    by = item.get("by")
    return render.safe(f":{item.get('name', '')}:" + (f" by {by}" if by else ""))


class EmojiCommands:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def table(self) -> dict[str, Handler]:
        return {"emoji": self.emoji}

    async def emoji(self, _rest: str) -> None:
        found = await listed(self.conn)
        for item in found:
            out(line(item))
        if not found:
            out("no custom emoji yet")


async def oneshot(conn: Connection, args: argparse.Namespace) -> int:
    """``emoji [--json]``: one custom emoji a line (``--json``: one JSON object a line)."""
    for item in await listed(conn):
        out(render.json_line(item) if args.json else line(item))
    return EXIT_OK
