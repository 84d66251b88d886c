"""Helpers of the export tests (PROTOCOL.md section 16): ask for an export, wait (bounded) until
it is ready, and read the ZIP."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import httpx

from tests.bots_support import Api, ok

READY = 30.0  # seconds an export of a few rows may take to build on a loaded machine
POLL = 0.05


@dataclass
class Export:
    names: list[str]
    profile: dict[str, Any]
    topics: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    files: dict[str, bytes]  # path in the archive -> bytes
    raw: bytes  # every entry's bytes, one after the other (for "nothing of X is in it")


async def requested(api: Api) -> str:
    """``POST /api/users/me/export`` that must be accepted: the export's id."""
    created = ok(await api.post("/api/users/me/export"), 202)
    assert set(created) == {"id"}, created
    export_id: str = created["id"]
    return export_id


async def fetched(api: Api, export_id: str) -> httpx.Response:
    """``GET`` the export until it is no longer pending (bounded): the answer."""
    async with asyncio.timeout(READY):
        while True:
            response = await api.get(f"/api/users/me/exports/{export_id}")
            if response.status_code != 202:
                return response
            assert response.json() == {"id": export_id, "state": "pending"}, response.text
            assert response.headers["retry-after"]
            await asyncio.sleep(POLL)


def read(data: bytes) -> Export:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        entries = {name: archive.read(name) for name in names}
    lines = entries["messages.jsonl"].decode().splitlines()
    return Export(
        names=names,
        profile=json.loads(entries["profile.json"]),
        topics=json.loads(entries["topics.json"])["topics"],
        messages=[json.loads(line) for line in lines],
        files={name: body for name, body in entries.items() if name.startswith("files/")},
        raw=b"".join(entries.values()),
    )


async def exported(api: Api) -> Export:
    """Ask for an export, wait for it and read it."""
    response = await fetched(api, await requested(api))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return read(response.content)
