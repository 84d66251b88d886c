"""Operator commands without a running server: ``parley user|topic|stats``, table and ``--json``."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from server.cli.serve import serving_line
from server.config import Settings
from tests.cli.runner import PASSWORD, Place, parley, place_in

pytestmark = pytest.mark.timeout(180)  # several commands per test, each a new process


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return place_in(tmp_path).with_env(PARLEY_DEFAULT_TOPICS="lobby,general")


async def create(place: Place, first: str, *others: str) -> None:
    """The first user alone (it creates the database), the others at once (each command takes seconds)."""

    async def one(name: str) -> None:
        result = await parley(place, "user", "create", name, "--password-stdin", stdin=PASSWORD + "\n")
        assert result.code == 0, result.err

    await one(first)
    await asyncio.gather(*(one(name) for name in others))


async def as_json(place: Place, *args: str) -> object:
    result = await parley(place, *args, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def rows(place: Place, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(place.database) as connection:
        return connection.execute(query).fetchall()


async def test_user_create_without_a_terminal_or_password_stdin_exits_2_with_a_message(place):
    result = await parley(place, "user", "create", "erin")  # stdin is a pipe here, not a terminal
    assert result.code == 2
    assert result.err == "parley: no terminal to ask for a password: use --password-stdin\n"
    assert not place.database.exists() or place.users() == []


async def test_set_password_without_a_terminal_or_password_stdin_exits_2(place):
    await create(place, "alice")
    result = await parley(place, "user", "set-password", "alice")
    assert result.code == 2
    assert "--password-stdin" in result.err
    assert "Traceback" not in result.err


async def test_user_list_as_a_table_and_as_json(place):
    await create(place, "alice", "Bobby")
    table = await parley(place, "user", "list")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLE", "STATE", "CREATED", "LAST", "SEEN"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["alice", "owner", "active"],
        ["Bobby", "member", "active"],
    ]
    listed = await as_json(place, "user", "list")
    assert [(u["username"], u["role"], u["state"], u["last_seen"]) for u in listed["users"]] == [
        ("alice", "owner", "active", None),  # the first account owns the workspace
        ("Bobby", "member", "active", None),
    ]


async def test_disable_and_enable_change_the_state_and_revoke_tokens_once(place):
    await create(place, "alice")
    [(version,)] = rows(place, "SELECT token_version FROM users")
    assert (await as_json(place, "user", "disable", "ALICE"))["state"] == "disabled"
    assert (await as_json(place, "user", "disable", "alice"))["state"] == "disabled"  # twice: no change
    assert rows(place, "SELECT token_version FROM users") == [(version + 1,)]
    token = await parley(place, "token", "alice")
    assert token.code == 1
    assert "forbidden" in token.err and "disabled" in token.err
    enabled = await parley(place, "user", "enable", "alice")
    assert enabled.code == 0, enabled.err
    assert enabled.out == "enabled alice\n"
    assert rows(place, "SELECT disabled_at FROM users") == [(None,)]
    assert (await parley(place, "token", "alice")).code == 0


async def test_set_password_stores_a_new_hash_and_revokes_tokens(place):
    await create(place, "alice")
    [(old_hash, version)] = rows(place, "SELECT password_hash, token_version FROM users")
    result = await parley(
        place, "user", "set-password", "alice", "--password-stdin", stdin="new-password-1\n"
    )
    assert result.code == 0, result.err
    [(new_hash, new_version)] = rows(place, "SELECT password_hash, token_version FROM users")
    assert new_hash != old_hash and new_version == version + 1


async def test_set_password_refuses_a_short_one_and_changes_nothing(place):
    await create(place, "alice")
    before = rows(place, "SELECT password_hash, token_version FROM users")
    result = await parley(place, "user", "set-password", "alice", "--password-stdin", stdin="short\n")
    assert result.code == 1
    assert result.err.startswith("parley: invalid")
    assert rows(place, "SELECT password_hash, token_version FROM users") == before


async def test_delete_leaves_a_placeholder_and_frees_the_name(place):
    await create(place, "alice", "bobby")
    deleted = await as_json(place, "user", "delete", "alice")
    assert deleted == {
        "username": "alice",
        "placeholder": "[deleted 1]",
        "messages_kept": 0,
        "memberships_removed": 2,
    }
    listed = await as_json(place, "user", "list")
    assert [u["username"] for u in listed["users"]] == ["bobby"]
    assert rows(place, "SELECT count(*) FROM memberships WHERE user_id = 1") == [(0,)]
    again = await parley(place, "user", "delete", "alice")
    assert again.code == 1 and "not_found" in again.err
    assert (await parley(place, "user", "delete", "[deleted 1]")).code == 1
    await create(place, "alice")  # the name is free again, for a new account
    assert [u["username"] for u in (await as_json(place, "user", "list"))["users"]] == ["bobby", "alice"]


@pytest.mark.parametrize("action", ["disable", "enable", "delete"])
async def test_an_unknown_user_is_not_found_with_exit_code_1(place, action):
    await create(place, "alice")
    result = await parley(place, "user", action, "ghost")
    assert result.code == 1
    assert result.err == "parley: not_found: no user named 'ghost'\n"


async def test_topic_list_rename_and_delete(place):
    await create(place, "alice")
    table = await parley(place, "topic", "list")
    assert table.code == 0, table.err
    assert table.out.splitlines()[0].split() == ["NAME", "KIND", "OWNER", "MEMBERS", "MESSAGES", "CREATED"]
    with sqlite3.connect(place.database) as connection:  # a topic no server recreates
        connection.execute(
            "INSERT INTO topics (name, name_key, kind, created_at, last_seq) VALUES ('Ops', 'ops', 'public', "
            "'2026-01-01 00:00:00', 0)"
        )
    renamed = await as_json(place, "topic", "rename", "ops", "Operations")
    assert renamed["old_name"] == "Ops" and renamed["topic"]["name"] == "Operations"
    case_only = await parley(place, "topic", "rename", "operations", "OPERATIONS")
    assert case_only.code == 0, case_only.err
    names = [t["name"] for t in (await as_json(place, "topic", "list"))["topics"]]
    assert names == ["lobby", "general", "OPERATIONS"]
    deleted = await as_json(place, "topic", "delete", "operations")
    assert deleted["name"] == "OPERATIONS"
    assert [t["name"] for t in (await as_json(place, "topic", "list"))["topics"]] == ["lobby", "general"]


async def test_topic_rename_refuses_a_taken_name_in_any_case_a_bad_name_and_a_default_topic(place):
    await create(place, "alice")
    with sqlite3.connect(place.database) as connection:
        connection.execute(
            "INSERT INTO topics (name, name_key, kind, created_at, last_seq) VALUES ('Ops', 'ops', 'public', "
            "'2026-01-01 00:00:00', 0)"
        )
    taken = await parley(place, "topic", "rename", "ops", "GENERAL")
    assert taken.code == 1 and taken.err.startswith("parley: conflict")
    bad = await parley(place, "topic", "rename", "ops", "no spaces")
    assert bad.code == 1 and bad.err.startswith("parley: invalid")
    default = await parley(place, "topic", "rename", "general", "other")
    assert default.code == 1 and default.err.startswith("parley: forbidden")
    missing = await parley(place, "topic", "delete", "nope")
    assert missing.code == 1 and missing.err.startswith("parley: not_found")
    assert rows(place, "SELECT name FROM topics ORDER BY id") == [("lobby",), ("general",), ("Ops",)]


async def test_stats_counts_users_topics_and_messages_and_no_running_server(place):
    await create(place, "alice", "bobby", "carol")
    changed = await asyncio.gather(
        parley(place, "user", "disable", "bobby"), parley(place, "user", "delete", "carol")
    )
    assert [result.code for result in changed] == [0, 0]
    stats = await as_json(place, "stats")
    assert stats == {
        "users": {"active": 1, "disabled": 1, "deleted": 1},
        "topics": {"public": 2, "private": 0, "direct": 0},
        "messages": 0,
        "nodes": [],
    }
    plain = await parley(place, "stats")
    assert plain.code == 0, plain.err
    assert plain.out.splitlines()[0].split() == ["users", "1", "active,", "1", "disabled,", "1", "deleted"]
    assert plain.out.splitlines()[-1].split() == ["servers", "none", "running"]


def test_the_serving_line_names_the_urls_and_the_database_without_its_password(tmp_path):
    url = "postgresql+asyncpg://parley:s3cret-pw@db.example:5432/parley"
    line = serving_line(Settings(data_dir=tmp_path, database_url=url), "0.0.0.0", 8123)
    assert "http://127.0.0.1:8123/ " in line
    assert "http://127.0.0.1:8123/docs" in line
    assert "/socket.io" in line
    assert "postgresql+asyncpg://parley:***@db.example:5432/parley" in line
    assert "s3cret-pw" not in line


async def test_topic_list_all_shows_a_direct_conversation_as_its_two_users(place):
    await create(place, "alice", "bobby")
    [(alice,), (bobby,)] = rows(
        place, "SELECT id FROM users WHERE username IN ('alice', 'bobby') ORDER BY username"
    )
    low, high = sorted((alice, bobby))
    with sqlite3.connect(place.database) as connection:  # what the first direct message stores
        topic = connection.execute(
            "INSERT INTO topics (name, name_key, kind, created_at, last_seq) VALUES (?, ?, 'direct', "
            "'2026-01-01 00:00:00', 0)",
            (f"dm:{low}:{high}", f"dm:{low}:{high}"),
        ).lastrowid
        for user_id in (alice, bobby):
            connection.execute(
                "INSERT INTO memberships (topic_id, user_id, role, joined_at, delivered_seq, read_seq) "
                "VALUES (?, ?, 'member', '2026-01-01 00:00:00', 0, 0)",
                (topic, user_id),
            )
    listed = await as_json(place, "topic", "list", "--all")
    direct = [t for t in listed["topics"] if t["kind"] == "direct"]
    assert [t["name"] for t in direct] == ["@alice+@bobby"]
    assert direct[0]["members"] == 2
    table = await parley(place, "topic", "list", "--all")
    assert table.code == 0, table.err
    assert "@alice+@bobby" in table.out and "dm:" not in table.out
