"""``parley export DIR`` (PROTOCOL.md section 16), a separate process while a server runs and
takes sends: every table of the database is in ``DIR/tables`` (the database's own list and the
models' both), with the rows the server wrote, and the files directory is copied to ``DIR/files``;
a directory that is not empty is refused and left as it was. Both databases."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from db.dump import table_names
from tests.cli.runner import parley, place_in
from tests.files_support import uploaded
from tests.support import LiveServer, send

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(120)]
ROOT = Path(__file__).parents[2]


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_every_table_and_the_files_while_the_server_runs(
    live_server: LiveServer, tmp_path: Path
) -> None:
    settings = live_server.app.state.settings
    token = await live_server.register("alice")
    alice = await live_server.connect("alice", token)
    await alice.ok("topic:subscribe", {"topic": "lobby"})
    upload = await uploaded(live_server, token, b"kept bytes", "kept.txt")
    await send(alice, {"topic": "lobby", "body": "in the dump", "files": [upload["id"]]})
    place = place_in(tmp_path).with_env(
        PARLEY_DATA_DIR=str(settings.data_dir),
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        **({"PARLEY_DATABASE_URL": settings.database_url} if settings.database_url else {}),
    )
    target = tmp_path / "dump"

    async def keep_sending() -> None:  # the server goes on writing during the export
        for n in range(1000):
            await send(alice, {"topic": "lobby", "body": f"meanwhile {n}"})

    sender = asyncio.create_task(keep_sending())
    try:
        result = await parley(place, "export", str(target))
    finally:
        sender.cancel()
    assert result.code == 0, result.err
    dumped = {path.stem for path in (target / "tables").glob("*.jsonl")}
    async with live_server.chat.db.engine.connect() as connection:
        assert dumped == set(await table_names(connection))
    assert set(SQLModel.metadata.tables) <= dumped
    assert "alembic_version" in dumped
    users = lines(target / "tables" / "users.jsonl")
    assert [user["username"] for user in users] == ["alice"]
    bodies = [message["body"] for message in lines(target / "tables" / "messages.jsonl")]
    assert "in the dump" in bodies
    [file_row] = lines(target / "tables" / "files.jsonl")
    assert file_row["id"] == upload["id"] and file_row["name"] == "kept.txt"
    sha = upload["sha256"]
    assert (target / "files" / sha[:2] / sha[2:4] / sha).read_bytes() == b"kept bytes"
    summary = json.loads((target / "export.json").read_text())
    assert summary["tables"]["users"] == 1 and summary["files"] >= 1


async def test_a_directory_that_is_not_empty_is_refused(live_server: LiveServer, tmp_path: Path) -> None:
    settings = live_server.app.state.settings
    place = place_in(tmp_path).with_env(
        PARLEY_DATA_DIR=str(settings.data_dir),
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        **({"PARLEY_DATABASE_URL": settings.database_url} if settings.database_url else {}),
    )
    target = tmp_path / "full"
    target.mkdir()
    (target / "mine.txt").write_text("an operator's file")
    result = await parley(place, "export", str(target))
    assert result.code != 0 and "not an empty directory" in result.err
    assert [path.name for path in target.iterdir()] == ["mine.txt"]
