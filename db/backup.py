"""A consistent copy of a live SQLite database (``parley backup``, PROTOCOL.md section 16).

SQLite's online backup API copies the database page by page while a server keeps writing to it.
Left alone, the API restarts its copy whenever another connection (the server, in another
process) commits between two steps, so a busy server could keep a paged copy from ever finishing.
The copy therefore holds one read transaction on the source for its whole run: in WAL mode (every
Parley connection uses it, ``db/engine.py``) that pins a snapshot without blocking any writer,
and every step copies pages of that same snapshot. Steps are short (``STEP_PAGES``) with a pause
between them, so the copy shares the disk with the server instead of taking it over.

The snapshot is then checked (``PRAGMA integrity_check``) and switched to a rollback journal, so
the backup is one self-contained file; ``parley serve`` turns WAL back on when it opens it.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

STEP_PAGES = 512  # pages one step copies (2 MB at SQLite's default 4 KiB page)
PAUSE = 0.005  # seconds between steps
COUNTED = ("users", "topics", "messages", "files")  # the manifest's numbers, to recognise a backup by


@dataclass(frozen=True)
class Snapshot:
    """What a finished snapshot holds, for the manifest."""

    revision: str | None
    counts: dict[str, int]
    sha256: str
    size: int
    blobs: frozenset[str]  # the file store's hashes the snapshot's ``files`` rows name


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL, or None for another database (or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def snapshot(source: Path, target: Path) -> Snapshot:
    """Copy the live database ``source`` into the new file ``target`` and describe the copy.

    Raises ``sqlite3.Error`` if the source cannot be read or the copy fails its integrity check
    (then ``target`` is removed).
    """
    try:
        _copy(source, target)
        return _describe(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _copy(source: Path, target: Path) -> None:
    with _closing(sqlite3.connect(source, isolation_level=None)) as src:  # transactions are ours
        src.execute("PRAGMA busy_timeout=5000")
        src.execute("PRAGMA journal_mode=WAL")  # as the server's own connections: readers block no writer
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the read snapshot starts here
        with _closing(sqlite3.connect(target)) as dst:
            src.backup(dst, pages=STEP_PAGES, progress=_pause)
        src.execute("COMMIT")


def _pause(_status: int, _remaining: int, _total: int) -> None:
    """Between two steps: the server gets the disk for a moment (this runs in the copying thread)."""
    time.sleep(PAUSE)


def _describe(target: Path) -> Snapshot:
    with _closing(sqlite3.connect(target)) as copy:
        verdict = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if verdict != ["ok"]:
            raise sqlite3.DatabaseError(f"the copy failed its integrity check: {'; '.join(verdict[:5])}")
        copy.execute("PRAGMA journal_mode=DELETE")  # one file: no -wal beside it
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revision = None
        if "alembic_version" in tables:
            row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        counts = {name: _count(copy, name) for name in COUNTED if name in tables}
        blobs = (
            frozenset(row[0] for row in copy.execute("SELECT DISTINCT sha256 FROM files"))
            if "files" in tables
            else frozenset()
        )
    return Snapshot(revision, counts, file_sha256(target), target.stat().st_size, blobs)


def _count(connection: sqlite3.Connection, table: str) -> int:
    return int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def integrity(path: Path) -> list[str]:
    """``PRAGMA integrity_check`` of the SQLite file at ``path``: ``["ok"]`` when it is sound."""
    with _closing(sqlite3.connect(path)) as connection:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]


CORE_TABLES = ("alembic_version", "users", "topics", "memberships", "messages")  # since 0001


class NotParley(Exception):
    """A file ``parley restore`` must not put in place: its message says why, in a few words."""


def parley_revision(path: Path, known: set[str]) -> str:
    """The schema revision of the Parley database at ``path``, read without changing it.

    A hash in a manifest proves only that a file is the one the manifest names, not that it is a
    database: ``parley restore`` asks this before it reports success, so that garbage, another
    program's SQLite file or a database of a Parley newer than ``known`` fails there, in one line,
    rather than at the next ``parley migrate``. Raises ``NotParley``.
    """
    try:
        with _closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            return _revision(connection, known)
    except sqlite3.Error as exc:
        raise NotParley(f"SQLite cannot read it ({exc})") from None


def _revision(connection: sqlite3.Connection, known: set[str]) -> str:
    verdict = [row[0] for row in connection.execute("PRAGMA quick_check")]
    if verdict != ["ok"]:
        raise NotParley(f"it fails SQLite's check ({verdict[0]})")
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [name for name in CORE_TABLES if name not in tables]
    if missing:
        raise NotParley(f"it has no {missing[0]} table")
    revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    if len(revisions) != 1 or revisions[0] not in known:
        raise NotParley(
            f"its schema revision {', '.join(map(str, revisions)) or '(none)'} is not one this Parley knows"
        )
    return str(revisions[0])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _closing(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``sqlite3.Connection`` as a context manager commits; this one closes."""
    try:
        yield connection
    finally:
        connection.close()


def known_revisions() -> set[str]:
    """Every migration this version of Parley has (a backup of a newer one is not restored)."""
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
