"""``parley search reindex``: the search index rebuilt from the messages table (PROTOCOL.md 9)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.runner import PASSWORD, parley, place_in

pytestmark = pytest.mark.timeout(180)


def matches(database: Path, word: str) -> list[int]:
    with sqlite3.connect(database) as connection:
        query = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid"
        return [row[0] for row in connection.execute(query, (f'"{word}"',))]


async def test_reindex_rebuilds_an_emptied_index_without_deleted_messages(tmp_path):
    place = place_in(tmp_path)
    created = await parley(place, "user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.code == 0, created.err
    with sqlite3.connect(place.database) as connection:  # the triggers index plain inserts
        (user_id,) = connection.execute("SELECT id FROM users").fetchone()
        (topic_id,) = connection.execute("SELECT id FROM topics").fetchone()
        for seq, body in enumerate(["needle one", "needle two", "needle gone"], start=1):
            connection.execute(
                "INSERT INTO messages (topic_id, seq, sender_id, body, created_at)"
                " VALUES (?, ?, ?, ?, '2026-11-23 08:00:00.000000')",
                (topic_id, seq, user_id, body),
            )
        connection.execute("UPDATE messages SET deleted_at = created_at WHERE body = 'needle gone'")
    assert matches(place.database, "needle") == [1, 2]
    with sqlite3.connect(place.database) as connection:
        connection.execute("INSERT INTO messages_fts (messages_fts) VALUES ('delete-all')")
    assert matches(place.database, "needle") == []

    result = await parley(place, "search", "reindex", "--json")

    assert result.code == 0, result.err
    answer = json.loads(result.out)
    assert answer["messages"] == 2 and answer["bytes"] > 0
    assert matches(place.database, "needle") == [1, 2]
    plain = await parley(place, "search", "reindex")
    assert plain.out == f"search index rebuilt: 2 messages, {answer['bytes']} bytes\n"
