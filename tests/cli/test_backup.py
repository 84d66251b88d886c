"""``parley backup DIR`` and ``parley restore DIR`` (PROTOCOL.md section 16), as an operator runs them.

A real ``parley serve`` on an SQLite file takes a stream of acknowledged sends from a Socket.IO
client while ``parley backup`` runs in another process; the backup restored into an empty data
directory holds every message acknowledged before the backup began, passes SQLite's integrity
check, and a server started on it serves: the old token, the password, the history, the file,
the same Web Push key. On PostgreSQL the command copies the files and prints the ``pg_dump``
command, and the documented ``pg_dump -Fc`` / ``pg_restore --clean --if-exists`` recipe round-trips.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shlex
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from db.backup import head_revision, integrity
from tests.cli.runner import PASSWORD, Place, parley, place_in, serving
from tests.databases import fresh_postgres_database, postgres_url
from tests.ports import free_port

pytestmark = pytest.mark.timeout(240)  # two servers and several commands, each a new process
WAIT = 20.0
WINDOW = 8  # sends in flight at once
BEFORE = 150  # acknowledged sends before the backup starts
DURING = 20  # acknowledged sends the backup must overlap with at least


def busy_place(tmp_path: Path, name: str = "data") -> Place:
    """A place whose limits let one client send as fast as the server acknowledges."""
    place = place_in(tmp_path)
    return place.with_env(
        PARLEY_DATA_DIR=str(tmp_path / name),
        PARLEY_SOCKET_BURST="100000",
        PARLEY_SOCKET_RATE="100000",
        PARLEY_PREVIEWS="off",
    )


def elsewhere(place: Place, data_dir: Path) -> Place:
    """The same configuration over another data directory."""
    return Place(place.cwd, data_dir, {**place.env, "PARLEY_DATA_DIR": str(data_dir)})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(url: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
        response = await http.post("/api/users", json={"username": name, "password": PASSWORD})
        assert response.status_code == 201, response.text
        return str(response.json()["token"])


async def upload(url: str, token: str, data: bytes) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
        response = await http.post("/api/files", files={"file": ("notes.bin", data)}, headers=bearer(token))
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found


class Stream:
    """One client sending numbered messages to the lobby, ``WINDOW`` at a time, until stopped.

    ``acked`` grows in the order the acks arrive: a copy of it taken at some moment is exactly
    what was acknowledged before that moment.
    """

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.acked: list[str] = []
        self.stopping = asyncio.Event()
        self.reached: dict[int, asyncio.Event] = {}

    def when(self, count: int) -> asyncio.Event:
        """Set once ``count`` sends are acknowledged."""
        event = self.reached.setdefault(count, asyncio.Event())
        if len(self.acked) >= count:
            event.set()
        return event

    async def run(self) -> None:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            self.url, auth={"token": self.token}, transports=["websocket"], wait_timeout=WAIT
        )
        try:
            await asyncio.gather(*(self._lane(client, lane) for lane in range(WINDOW)))
        finally:
            await client.disconnect()

    async def _lane(self, client: socketio.AsyncClient, lane: int) -> None:
        number = 0
        while not self.stopping.is_set():
            client_id = f"lane{lane}-{number}"
            payload = {"topic": "lobby", "body": client_id, "client_id": client_id}
            ack = await client.call("message:send", payload, timeout=WAIT)
            assert ack["ok"] is True, ack
            self.acked.append(client_id)
            for count, event in self.reached.items():
                if len(self.acked) >= count:
                    event.set()
            number += 1


async def whole_history(http: httpx.AsyncClient, token: str) -> list[str]:
    """Every body of the lobby's history, paged back with ``before_seq`` as a client does."""
    bodies: list[str] = []
    params: dict[str, int] = {"limit": 200}
    while True:
        page = await http.get("/api/topics/lobby/messages", params=params, headers=bearer(token))
        assert page.status_code == 200, page.text
        messages = page.json()["messages"]
        bodies = [message["body"] for message in messages] + bodies
        if not page.json()["has_more"]:
            return bodies
        params["before_seq"] = messages[0]["seq"]


def stored_client_ids(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT client_id FROM messages WHERE client_id IS NOT NULL")
        return {row[0] for row in rows}


async def test_a_backup_taken_under_sends_restores_into_a_server_that_serves(tmp_path: Path) -> None:
    place = busy_place(tmp_path)
    backup_dir = tmp_path / "backup"
    port = free_port()
    async with serving(place, port) as url:
        token = await register(url, "alice")
        attachment = await upload(url, token, b"the minutes of the meeting\n" * 100)
        async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
            sent = await http.post(
                "/api/messages",
                json={"topic": "lobby", "body": "see attached", "files": [attachment["id"]]},
                headers=bearer(token),
            )
            assert sent.status_code in (200, 201), sent.text
            push_key = (await http.get("/api/push/key", headers=bearer(token))).json()["public_key"]
        stream = Stream(url, token)
        sending = asyncio.ensure_future(stream.run())
        try:
            await asyncio.wait_for(stream.when(BEFORE).wait(), WAIT)
            acked_before = list(stream.acked)  # acknowledged before the backup began
            result = await parley(place, "backup", str(backup_dir))
            acked_during = len(stream.acked) - len(acked_before)
            assert result.code == 0, result.err
            # the server went on acknowledging while the backup ran, and afterwards
            await asyncio.wait_for(stream.when(len(stream.acked) + DURING).wait(), WAIT)
        finally:
            stream.stopping.set()
            await asyncio.wait_for(sending, WAIT)
    assert acked_during > 0, "no send was acknowledged while the backup ran: nothing overlapped"
    assert "database: parley.db at revision" in result.out

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["format"] == "parley-backup"
    assert manifest["database"]["kind"] == "sqlite"
    assert manifest["database"]["revision"]
    assert manifest["counts"]["users"] == 1
    assert manifest["counts"]["messages"] >= BEFORE + 1
    assert manifest["counts"]["files"] == 1
    assert manifest["files"]["count"] >= 1
    assert sorted(manifest["keys"]) == ["jwt_secret", "vapid_private_key.pem"]

    restored = elsewhere(place, tmp_path / "restored")
    result = await parley(restored, "restore", str(backup_dir))
    assert result.code == 0, result.err
    assert integrity(restored.database) == ["ok"]
    stored = stored_client_ids(restored.database)
    assert set(acked_before) <= stored, f"missing: {sorted(set(acked_before) - stored)[:5]}"

    async with serving(restored, free_port()) as url, httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
        me = await http.get("/api/users/me", headers=bearer(token))  # a token the old server issued
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "alice"
        login = await http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert login.status_code == 200, login.text
        bodies = await whole_history(http, token)
        assert set(acked_before) <= set(bodies)
        assert "see attached" in bodies
        download = await http.get(attachment["url"], headers=bearer(token))
        assert download.status_code == 200
        assert download.content == b"the minutes of the meeting\n" * 100
        same_key = (await http.get("/api/push/key", headers=bearer(token))).json()["public_key"]
        assert same_key == push_key  # browsers' push subscriptions keep working


async def test_a_backup_of_an_older_schema_is_migrated_when_the_restored_server_starts(
    tmp_path: Path,
) -> None:
    place = busy_place(tmp_path)
    newest = head_revision()
    older = _previous_revision(newest)
    await migrate_to(place.database, older)  # the database of an older Parley
    backup_dir = tmp_path / "backup"
    result = await parley(place, "backup", str(backup_dir))
    assert result.code == 0, result.err
    assert json.loads((backup_dir / "manifest.json").read_text())["database"]["revision"] == older

    restored = elsewhere(place, tmp_path / "restored")
    restored.data_dir.mkdir()  # an empty data directory is as good as none
    assert (await parley(restored, "restore", str(backup_dir))).code == 0
    async with serving(restored, free_port()) as url:
        assert await register(url, "erin")
    with sqlite3.connect(restored.database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (newest,)


async def migrate_to(database: Path, revision: str) -> None:
    """A new SQLite database at ``revision`` (alembic, as ``parley migrate`` runs it, stopped early)."""
    from alembic import command

    from db.migrate import alembic_config
    from db.uow import Database

    database.parent.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite+aiosqlite:///{database}")
    try:
        async with db.engine.begin() as connection:

            def upgrade(sync_connection: Any) -> None:
                config = alembic_config()
                config.attributes["connection"] = sync_connection
                command.upgrade(config, revision)

            await connection.run_sync(upgrade)
    finally:
        await db.dispose()


def _previous_revision(revision: str | None) -> str:
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    assert script is not None and isinstance(script.down_revision, str)
    return script.down_revision


async def test_backup_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    place = busy_place(tmp_path)
    assert (await parley(place, "migrate")).code == 0
    target = tmp_path / "backup"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = await parley(place, "backup", str(target))
    assert result.code == 1
    assert "is not empty" in result.err and "Traceback" not in result.err
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]


async def test_backup_without_a_database_says_so(tmp_path: Path) -> None:
    place = busy_place(tmp_path)
    result = await parley(place, "backup", str(tmp_path / "backup"))
    assert result.code == 1
    assert "no database" in result.err
    assert not (tmp_path / "backup").exists()


async def test_stats_on_a_restored_backup_shows_no_server_running(tmp_path: Path) -> None:
    """Issue 55 row 13: the backup of a running server holds its heartbeat row (the ``node``
    table), and ``parley stats`` on the restored copy reported that server as running there
    (until ``PARLEY_PRESENCE_TTL`` went by): no server serves a database that was just restored."""
    place = busy_place(tmp_path).with_env(PARLEY_PRESENCE_TTL="3600")  # stale only in an hour
    backup_dir = tmp_path / "backup"
    async with serving(place, free_port()):
        assert (await parley(place, "stats")).out.count("1 running") == 1  # the row is there
        assert (await parley(place, "backup", str(backup_dir))).code == 0
    with sqlite3.connect(backup_dir / "parley.db") as copied:
        assert copied.execute("SELECT count(*) FROM node").fetchone() == (1,)  # as the backup took it

    restored = elsewhere(place, tmp_path / "restored")
    result = await parley(restored, "restore", str(backup_dir))
    assert result.code == 0, result.err
    stats = await parley(restored, "stats", "--json")
    assert stats.code == 0, stats.err
    assert json.loads(stats.out)["nodes"] == []
    assert "none running" in (await parley(restored, "stats")).out


@asynccontextmanager
async def backed_up(tmp_path: Path) -> AsyncIterator[tuple[Place, Path]]:
    place = busy_place(tmp_path)
    assert (
        await parley(place, "user", "create", "carol", "--password-stdin", stdin=PASSWORD + "\n")
    ).code == 0
    backup_dir = tmp_path / "backup"
    result = await parley(place, "backup", str(backup_dir))
    assert result.code == 0, result.err
    yield place, backup_dir


async def test_restore_refuses_a_data_directory_that_is_not_empty(tmp_path: Path) -> None:
    async with backed_up(tmp_path) as (place, backup_dir):
        before = place.database.read_bytes()
        result = await parley(place, "restore", str(backup_dir))  # the live data directory itself
        assert result.code == 1
        assert "is not empty" in result.err and "Traceback" not in result.err
        assert place.database.read_bytes() == before


async def test_restore_refuses_a_directory_without_a_manifest(tmp_path: Path) -> None:
    async with backed_up(tmp_path) as (place, backup_dir):
        (backup_dir / "manifest.json").unlink()  # as an interrupted backup leaves it
        target = elsewhere(place, tmp_path / "restored")
        result = await parley(target, "restore", str(backup_dir))
        assert result.code == 1
        assert "no manifest.json" in result.err
        assert not target.data_dir.exists()  # nothing made, not even the secret


async def test_restore_refuses_a_damaged_database_and_leaves_nothing_behind(tmp_path: Path) -> None:
    async with backed_up(tmp_path) as (place, backup_dir):
        with (backup_dir / "parley.db").open("r+b") as handle:
            handle.seek(5000)
            handle.write(b"\xff" * 16)
        target = elsewhere(place, tmp_path / "restored")
        result = await parley(target, "restore", str(backup_dir))
        assert result.code == 1
        assert "damaged" in result.err
        assert not target.data_dir.exists()


def _replace_database(backup_dir: Path, content: bytes) -> None:
    """Put ``content`` in the backup's place of the database, with a manifest whose SHA-256 matches:
    the hash then proves only that the bytes are the ones the manifest names, not what they are."""
    (backup_dir / "parley.db").write_bytes(content)
    manifest_path = backup_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["database"]["sha256"] = hashlib.sha256(content).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def _other_sqlite_database(path: Path) -> bytes:
    """A sound SQLite file that is not Parley's: another program's tables, no schema revision."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        connection.execute("INSERT INTO notes (body) VALUES ('not a chat')")
        connection.commit()
    return path.read_bytes()


async def test_restore_refuses_garbage_whose_hash_the_manifest_holds(tmp_path: Path) -> None:
    async with backed_up(tmp_path) as (place, backup_dir):
        _replace_database(backup_dir, b"these bytes are no database at all\n" * 200)
        target = elsewhere(place, tmp_path / "restored")
        result = await parley(target, "restore", str(backup_dir))
        assert result.code == 1
        assert "not a Parley database" in result.err and "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) == 1
        assert not target.data_dir.exists()  # nothing left behind: not the database, not the keys


async def test_restore_refuses_an_sqlite_file_without_parleys_schema(tmp_path: Path) -> None:
    async with backed_up(tmp_path) as (place, backup_dir):
        _replace_database(backup_dir, _other_sqlite_database(tmp_path / "other.db"))
        target = elsewhere(place, tmp_path / "restored")
        target.data_dir.mkdir()  # an empty data directory stays empty
        result = await parley(target, "restore", str(backup_dir))
        assert result.code == 1
        assert "not a Parley database" in result.err and "Traceback" not in result.err
        assert list(target.data_dir.iterdir()) == []


async def test_restore_refuses_a_database_at_another_revision_than_the_manifest_says(
    tmp_path: Path,
) -> None:
    async with backed_up(tmp_path) as (place, backup_dir):
        manifest_path = backup_dir / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["database"]["revision"] = _previous_revision(manifest["database"]["revision"])
        manifest_path.write_text(json.dumps(manifest))
        target = elsewhere(place, tmp_path / "restored")
        result = await parley(target, "restore", str(backup_dir))
        assert result.code == 1
        assert "revision" in result.err and "Traceback" not in result.err
        assert not target.data_dir.exists()


async def test_restore_refuses_a_backup_of_a_newer_parley(tmp_path: Path) -> None:
    async with backed_up(tmp_path) as (place, backup_dir):
        manifest_path = backup_dir / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["database"]["revision"] = "9999"
        manifest_path.write_text(json.dumps(manifest))
        result = await parley(elsewhere(place, tmp_path / "restored"), "restore", str(backup_dir))
        assert result.code == 1
        assert "9999 is unknown" in result.err


async def test_restore_refuses_a_manifest_that_names_files_outside_the_backup(tmp_path: Path) -> None:
    async with backed_up(tmp_path) as (place, backup_dir):
        manifest_path = backup_dir / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["keys"] = ["../../outside"]
        manifest_path.write_text(json.dumps(manifest))
        target = elsewhere(place, tmp_path / "restored")
        result = await parley(target, "restore", str(backup_dir))
        assert result.code == 1
        assert "not a Parley backup manifest" in result.err
        assert not target.data_dir.exists()


async def test_postgres_backup_copies_the_files_and_the_dump_recipe_round_trips(tmp_path: Path) -> None:
    base = postgres_url()
    async with fresh_postgres_database(base) as source_url, fresh_postgres_database(base) as target_url:
        place = busy_place(tmp_path).with_env(PARLEY_DATABASE_URL=source_url)
        backup_dir = tmp_path / "backup"
        async with serving(place, free_port()) as url:
            token = await register(url, "dave")
            attachment = await upload(url, token, b"kept on a shared volume\n")
            async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
                sent = await http.post(
                    "/api/messages",
                    json={"topic": "lobby", "body": "on postgres", "files": [attachment["id"]]},
                    headers=bearer(token),
                )
                assert sent.status_code in (200, 201), sent.text
            result = await parley(place, "backup", str(backup_dir))
        assert result.code == 0, result.err
        assert "pg_dump -Fc" in result.out
        assert not (backup_dir / "parley.db").exists()
        assert (backup_dir / "files" / attachment["sha256"][:2] / attachment["sha256"][2:4]).is_dir()
        manifest = json.loads((backup_dir / "manifest.json").read_text())
        assert manifest["database"] == {"kind": "postgresql", "dump": "parley.pgdump"}
        if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
            return  # the recipe needs the client tools; the command's part is checked above
        await run_printed(result.out, "pg_dump")
        assert (backup_dir / "parley.pgdump").is_file()

        restored = elsewhere(place, tmp_path / "restored").with_env(PARLEY_DATABASE_URL=target_url)
        result = await parley(restored, "restore", str(backup_dir))
        assert result.code == 0, result.err
        await run_printed(result.out, "pg_restore")
        async with (
            serving(restored, free_port()) as url,
            httpx.AsyncClient(base_url=url, timeout=WAIT) as http,
        ):
            assert (await http.get("/api/users/me", headers=bearer(token))).status_code == 200
            history = await http.get("/api/topics/lobby/messages", headers=bearer(token))
            assert [m["body"] for m in history.json()["messages"]][-1] == "on postgres"
            download = await http.get(attachment["url"], headers=bearer(token))
            assert download.content == b"kept on a shared volume\n"


async def run_printed(out: str, tool: str) -> None:
    """Run the ``tool`` command line a ``parley`` command printed, as an operator would paste it."""
    line = next(line.strip() for line in out.splitlines() if line.strip().startswith(tool + " "))
    process = await asyncio.create_subprocess_exec(
        *shlex.split(line), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _out, err_bytes = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, f"{line}\n{err_bytes.decode()}"
