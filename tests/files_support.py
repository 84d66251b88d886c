"""Test helpers for files (PROTOCOL.md section 11): images made with Pillow, uploads, where blobs are."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from tests.support import LiveServer, bearer


def png(width: int = 640, height: int = 480, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


OCTETS = "application/octet-stream"


async def upload(
    server: LiveServer, token: str, data: bytes, name: str = "a.bin", claimed: str = OCTETS
) -> Any:
    """POST /api/files; the response."""
    return await server.http.post("/api/files", files={"file": (name, data, claimed)}, headers=bearer(token))


async def uploaded(server: LiveServer, token: str, data: bytes, name: str = "a.bin") -> dict[str, Any]:
    """An upload that must succeed: its File object."""
    response = await upload(server, token, data, name)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def blobs(server: LiveServer) -> list[Path]:
    """Every blob the server's file store holds (thumbnails and temporary files left out)."""
    root = server.app.state.settings.resolved_files_dir
    return sorted(p for p in root.glob("??/??/*") if "." not in p.name)


def leftovers(server: LiveServer) -> list[Path]:
    """Temporary files of uploads (none once every upload answered)."""
    return sorted((server.app.state.settings.resolved_files_dir / "tmp").iterdir())


BOUNDARY = "parley-test-boundary"


def multipart(name: str, data: bytes, field: str = "file") -> tuple[bytes, dict[str, str]]:
    """A multipart body with ``name`` as given, byte for byte (httpx would percent-encode control
    characters), and its Content-Type header."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def reset_peak_memory() -> int:
    """Start measuring this process's peak resident memory (Linux ``clear_refs`` 5); bytes now."""
    Path("/proc/self/clear_refs").write_text("5")
    return peak_memory()


def peak_memory() -> int:
    """This process's peak resident memory since ``reset_peak_memory``, in bytes (the server under
    test runs in this process)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")
