"""The REPL's files (PROTOCOL.md section 11): ``/upload PATH [TEXT]`` and ``/download ID [PATH]``.

An upload is two steps, as for any client: ``POST /api/files`` (multipart, the Bearer token of the
connection), then ``message:send`` with ``files: [id]`` to the current conversation (the text may
be empty). The file is streamed from disk by httpx, never read whole. A download streams
``GET /api/files/{id}`` to ``PATH`` (default: the file's name, in the working directory; an
existing file is not overwritten). Messages show their files on indented lines
(``render.file_lines``): name, size, id and download URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from client_demo import render
from client_demo.connection import Connection
from client_demo.errors import ClientError, UsageError
from client_demo.live import LiveView
from client_demo.models import as_message
from client_demo.output import out

HELP = """\
  /upload PATH [TEXT]         send a file (and optional text) to the current conversation
  /download ID [PATH]         save a file of a message (default: its name, here)"""

Handler = Callable[[str], Awaitable[None]]
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}
TIMEOUT = 120.0  # seconds for one upload or download (10 MiB on a slow link)


class FileCommands:
    def __init__(self, conn: Connection, view: LiveView, here: Callable[[], str]) -> None:
        self.conn = conn
        self.view = view
        self.here = here

    def table(self) -> dict[str, Handler]:
        return {"upload": self.upload, "download": self.download}

    async def upload(self, rest: str) -> None:
        path_text, _, text = rest.partition(" ")
        if not path_text:
            raise UsageError("/upload PATH [TEXT]")
        path = Path(path_text).expanduser()
        if not path.is_file():
            raise UsageError(f"no file at {path_text}")
        found = await upload_file(self.conn.url, self.conn.token, path)
        where = self.here()
        target = {"to": where[1:]} if where.startswith("@") else {"topic": where}
        payload = {**target, "body": text.strip(), "files": [found["id"]], "client_id": uuid.uuid4().hex}
        self.view.show(as_message(await self.conn.call("message:send", payload)))

    async def download(self, rest: str) -> None:
        file_id, _, path_text = rest.partition(" ")
        if not file_id:
            raise UsageError("/download ID [PATH]")
        saved = await download_file(self.conn.url, self.conn.token, file_id, path_text.strip() or None)
        out(f"saved {render.safe(saved)}")


async def upload_file(url: str, token: str, path: Path) -> dict[str, Any]:
    """``POST /api/files`` with the file at ``path``; its File object."""
    try:
        async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT) as http:
            with path.open("rb") as handle:
                response = await http.post(
                    "/api/files",
                    files={"file": (path.name, handle, "application/octet-stream")},
                    headers={"Authorization": f"Bearer {token}"},
                )
    except httpx.HTTPError as exc:
        raise ClientError("unreachable", f"cannot reach {url}: {exc or type(exc).__name__}") from None
    if response.status_code != 201:
        raise error_of(response)
    found: dict[str, Any] = response.json()
    return found


async def download_file(url: str, token: str, file_id: str, path: str | None) -> Path:
    """Stream ``GET /api/files/{id}`` to ``path`` (default: the name the server gives); the path."""
    try:
        async with (
            httpx.AsyncClient(base_url=url, timeout=TIMEOUT) as http,
            http.stream(
                "GET", f"/api/files/{file_id}", headers={"Authorization": f"Bearer {token}"}
            ) as response,
        ):
            if response.status_code != 200:
                await response.aread()
                raise error_of(response)
            target = (
                Path(path) if path else Path(_name(response.headers.get("content-disposition", ""), file_id))
            )
            if target.exists():
                raise UsageError(f"{target} exists: give another PATH")
            with target.open("wb") as handle:
                async for chunk in response.aiter_bytes():
                    handle.write(chunk)
    except httpx.HTTPError as exc:
        raise ClientError("unreachable", f"cannot reach {url}: {exc or type(exc).__name__}") from None
    return target


def _name(disposition: str, fallback: str) -> str:
    """The file name of ``attachment; filename*=UTF-8''...`` (no directory); else ``fallback`` (an
    image is ``inline``, without a name: its id and extension)."""
    _, _, encoded = disposition.partition("filename*=UTF-8''")
    name = Path(unquote(encoded.split(";")[0].strip())).name if encoded else ""
    return name if name not in ("", ".", "..") else fallback


def error_of(response: httpx.Response) -> ClientError:
    """The server's error envelope as a ``ClientError`` (any other answer by its status)."""
    try:
        error = response.json()["error"]
        return ClientError(str(error["code"]), str(error.get("message", "")))
    except (ValueError, KeyError, TypeError):
        return ClientError(f"http_{response.status_code}", response.text.strip()[:200])
