"""The live data is the operator's only (docs/deploy.md): what ``parley`` writes - the SQLite
database and its WAL, the kept secret, uploads, thumbnails and users' export ZIPs - is 0600 in
folders 0700, as the backups are. ``parley serve`` runs as a process of its own (the umask it sets
is its own); a command run in this process leaves this process's umask as it found it."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import httpx
import pytest

from tests.cli.runner import PASSWORD, Place, parley, place_in, serving_process
from tests.files_support import png

READY = 30.0  # seconds an export of a few rows may take to build on a loaded machine


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return place_in(tmp_path)


def modes(root: Path) -> dict[str, int]:
    """Every file and folder under ``root`` (``root`` included, as "."), with its permission bits."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def loose(root: Path) -> dict[str, str]:
    """What under ``root`` others could read: folders not 0700, files not 0600."""
    wrong = {}
    for name, mode in modes(root).items():
        want = 0o700 if (root / name).is_dir() else 0o600
        if mode != want:
            wrong[name] = oct(mode)
    return wrong


async def export_ready(http: httpx.AsyncClient, export_id: str) -> None:
    async with asyncio.timeout(READY):
        while (await http.get(f"/api/users/me/exports/{export_id}")).status_code == 202:
            await asyncio.sleep(0.05)


async def test_serve_writes_the_database_uploads_and_exports_0600_in_folders_0700(place, unused_tcp_port):
    place.data_dir.mkdir(mode=0o755)  # a data directory from before: tightened at the start
    async with serving_process(place, unused_tcp_port) as (url, _process):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            created = await http.post("/api/users", json={"username": "alice", "password": PASSWORD})
            http.headers["Authorization"] = f"Bearer {created.json()['token']}"
            picture = await http.post("/api/files", files={"file": ("me.png", png(), "image/png")})
            assert picture.status_code == 201, picture.text
            asked = await http.post("/api/users/me/export")
            assert asked.status_code == 202, asked.text
            await export_ready(http, asked.json()["id"])

            written = modes(place.data_dir)
            assert {"parley.db", "parley.db-wal", "jwt_secret"} <= set(written)
            assert any(name.startswith("files/exports/") and name.endswith(".zip") for name in written)
            assert sum(1 for name in written if name.startswith("files/") and name.count("/") == 3) >= 2
            assert loose(place.data_dir) == {}


async def test_a_command_run_in_this_process_makes_its_files_private_and_restores_the_umask(place):
    before = os.umask(0o022)
    os.umask(before)

    migrated = await parley(place, "migrate")

    assert migrated.code == 0, migrated.err
    assert "parley.db" in modes(place.data_dir)
    assert loose(place.data_dir) == {}
    after = os.umask(before)
    assert after == before
