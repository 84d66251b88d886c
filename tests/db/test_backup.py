"""``db.backup.snapshot``: a consistent copy of an SQLite database another connection keeps writing to.

The writer here is a thread with its own connection, committing numbered rows one at a time, as a
server does; the copy must hold exactly the rows of one moment (1..N, no gap), N at least what
was committed before the copy began, and pass ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from db.backup import STEP_PAGES, file_sha256, integrity, snapshot, sqlite_path


def wal_database(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE messages (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        connection.executemany(
            "INSERT INTO messages (seq, body) VALUES (?, randomblob(2000))",
            [(n,) for n in range(1, rows + 1)],
        )
    connection.close()


class Writer(threading.Thread):
    """Commits row after row (the next ``seq``) until stopped; ``committed`` is the last one done."""

    def __init__(self, path: Path, start_after: int) -> None:
        super().__init__(daemon=True)
        self.path, self.committed = path, start_after
        self.stop = threading.Event()
        self.going = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        connection.execute("PRAGMA busy_timeout=5000")
        try:
            while not self.stop.is_set():
                connection.execute(
                    "INSERT INTO messages (seq, body) VALUES (?, randomblob(2000))", (self.committed + 1,)
                )
                self.committed += 1
                if self.committed % 20 == 0:
                    self.going.set()
        finally:
            connection.close()


def test_a_snapshot_under_writes_holds_the_rows_of_one_moment(tmp_path: Path) -> None:
    source, copy = tmp_path / "live.db", tmp_path / "copy.db"
    wal_database(source, rows=3000)  # about 1,500 pages: several steps of STEP_PAGES
    assert (source.stat().st_size // 4096) > 2 * STEP_PAGES
    writer = Writer(source, start_after=3000)
    writer.start()
    try:
        assert writer.going.wait(10)
        before = writer.committed
        taken = snapshot(source, copy)
        assert writer.committed > before, "the writer went on while the copy ran"
    finally:
        writer.stop.set()
        writer.join(10)
    assert integrity(copy) == ["ok"]
    with sqlite3.connect(copy) as connection:
        seqs = [row[0] for row in connection.execute("SELECT seq FROM messages ORDER BY seq")]
    connection.close()
    assert seqs == list(range(1, len(seqs) + 1))  # a prefix: no row missing in the middle
    assert len(seqs) >= before
    assert taken.sha256 == file_sha256(copy) and taken.size == copy.stat().st_size
    assert not Path(f"{copy}-wal").exists()  # one self-contained file


def test_a_source_that_is_no_database_leaves_no_copy(tmp_path: Path) -> None:
    source, copy = tmp_path / "notes.txt", tmp_path / "copy.db"
    source.write_bytes(b"not a database, " * 512)
    with pytest.raises(sqlite3.DatabaseError):
        snapshot(source, copy)
    assert not copy.exists()


def test_the_sqlite_file_of_a_url() -> None:
    assert sqlite_path("sqlite+aiosqlite:////srv/parley/data/parley.db") == Path("/srv/parley/data/parley.db")
    assert sqlite_path("postgresql+asyncpg://parley@db:5432/parley") is None
    assert sqlite_path("sqlite+aiosqlite:///:memory:") is None
