"""Your data (PROTOCOL.md section 16) in the REPL: ``/export [PATH]`` asks the server for an export
(``POST /api/users/me/export``: one an hour), waits while it is built (``GET
/api/users/me/exports/{id}`` answers 202 until then; asked again after its ``Retry-After``, for at
most ``WAIT`` seconds), and streams the ZIP to ``PATH`` (default: ``parley-export-<id>.zip`` in
the working directory; an existing file is not overwritten). It prints where it saved it. The
one-shot ``python -m client_demo export [PATH]`` does the same.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from client_demo import render
from client_demo.connection import Connection
from client_demo.errors import EXIT_OK, ClientError, UsageError
from client_demo.files import TIMEOUT, error_of
from client_demo.output import out

HELP = """\
  /export [PATH]              download all your data as a ZIP (one an hour; default: here)"""

Handler = Callable[[str], Awaitable[None]]
WAIT = 600.0  # seconds to wait for an export to be built before giving up (the server goes on)


class ExportCommands:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def table(self) -> dict[str, Handler]:
        return {"export": self.export}

    async def export(self, rest: str) -> None:
        target = Path(rest.strip()).expanduser() if rest.strip() else None
        if target is not None and target.exists():
            raise UsageError(f"{rest.strip()} exists: give another PATH")
        out("asking for your export…")
        saved = await export_to(self.conn.url, self.conn.token, target)
        out(f"saved {render.safe(str(saved))}")


async def export_to(url: str, token: str, target: Path | None) -> Path:
    """Ask for an export, wait until it is ready and save it to ``target``; the path saved to."""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT, headers=headers) as http:
            asked = await http.post("/api/users/me/export")
            if asked.status_code != 202:
                raise error_of(asked)
            export_id = str(asked.json()["id"])
            path = target or Path(f"parley-export-{export_id}.zip")
            async with asyncio.timeout(WAIT):
                while not await _saved(http, export_id, path):
                    pass
    except TimeoutError:
        raise ClientError("timeout", "the export is taking long; ask again later") from None
    except httpx.HTTPError as exc:
        raise ClientError("unreachable", f"cannot reach {url}: {exc or type(exc).__name__}") from None
    return path


async def _saved(http: httpx.AsyncClient, export_id: str, path: Path) -> bool:
    """One look: the ZIP streamed to ``path`` (True), or a wait of ``Retry-After`` (False)."""
    async with http.stream("GET", f"/api/users/me/exports/{export_id}") as response:
        if response.status_code == 202:
            await response.aread()
            await asyncio.sleep(float(response.headers.get("retry-after", "2")))
            return False
        if response.status_code != 200:
            await response.aread()
            raise error_of(response)
        if path.exists():
            raise UsageError(f"{path} exists: give another PATH")
        with path.open("wb") as handle:
            async for chunk in response.aiter_bytes():
                handle.write(chunk)
    return True


async def oneshot(conn: Connection, args: argparse.Namespace) -> int:
    """``export [PATH]``: ask for an export, wait for it, save it and print ``saved PATH``."""
    target = Path(args.path).expanduser() if args.path else None
    if target is not None and target.exists():
        raise UsageError(f"{args.path} exists: give another PATH")
    saved = await export_to(conn.url, conn.token, target)
    out(f"saved {render.safe(str(saved))}")
    return EXIT_OK
