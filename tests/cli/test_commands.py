"""The ``parley`` command without a running server: version, migrate, user create, token, refusals."""

from __future__ import annotations

import sqlite3
import stat
from importlib.metadata import version
from pathlib import Path

import bcrypt
import jwt
import pytest
from alembic.script import ScriptDirectory

from db.migrate import alembic_config
from tests.cli.runner import PASSWORD, Place, parley, place_in


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return place_in(tmp_path)


async def create_alice(place: Place) -> None:
    result = await parley(place, "user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.code == 0, result.err


async def test_version_prints_the_installed_version(place):
    result = await parley(place, "--version")
    assert result.code == 0
    assert result.out == f"parley {version('parley')}\n"


async def test_migrate_brings_a_new_database_to_the_newest_revision(place):
    first = await parley(place, "migrate")
    assert first.code == 0, first.err
    assert "newest revision" in first.out
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with sqlite3.connect(place.database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]


async def test_user_create_reads_the_password_from_stdin_and_stores_only_its_hash(place):
    result = await parley(place, "user", "create", "Alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.code == 0, result.err
    assert "Alice" in result.out
    [(username, password_hash)] = place.users()
    assert username == "Alice"
    assert password_hash.startswith("$2b$04$")  # PARLEY_BCRYPT_ROUNDS=4 reached the command
    assert bcrypt.checkpw(PASSWORD.encode(), password_hash.encode())


async def test_user_create_refuses_a_name_taken_in_another_case(place):
    await create_alice(place)
    result = await parley(place, "user", "create", "ALICE", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.code == 1
    assert "conflict" in result.err
    assert [name for name, _ in place.users()] == ["alice"]


@pytest.mark.parametrize(
    ("username", "password"),
    [
        pytest.param("ab", PASSWORD, id="username-too-short"),
        pytest.param("bad name", PASSWORD, id="username-with-space"),
        pytest.param("alice", "short", id="password-too-short"),
        pytest.param("alice", "x" * 73, id="password-over-72-bytes"),
        pytest.param("alice", "", id="empty-stdin"),
    ],
)
async def test_user_create_refuses_bad_input_and_stores_nothing(place, username, password):
    result = await parley(place, "user", "create", username, "--password-stdin", stdin=password + "\n")
    assert result.code == 1
    assert result.err.startswith("parley: invalid")
    assert "Traceback" not in result.err
    assert not place.database.exists() or place.users() == []


async def test_token_prints_a_token_signed_with_the_secret_kept_by_an_earlier_command(place):
    await create_alice(place)  # the first command generates the secret file
    assert stat.S_IMODE(place.secret_file.stat().st_mode) == 0o600
    secret = place.secret_file.read_text().strip()
    assert len(secret.encode()) >= 32
    result = await parley(place, "token", "alice")
    assert result.code == 0, result.err
    token = result.out.strip()
    assert result.out == token + "\n"
    assert place.secret_file.read_text().strip() == secret
    claims = jwt.decode(token, secret, algorithms=["HS256"])
    assert claims["sub"] == "1"  # alice, the first account
    assert claims["exp"] - claims["iat"] == 15 * 60  # PARLEY_TOKEN_TTL's default
    short = await parley(place, "token", "alice", "--ttl", "90")
    assert short.code == 0, short.err
    claims = jwt.decode(short.out.strip(), secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 90


async def test_token_for_an_unknown_user_fails_with_exit_code_1_and_a_message(place):
    result = await parley(place, "token", "ghost")
    assert result.code == 1
    assert result.out == ""
    assert "ghost" in result.err
    assert "not_found" in result.err
    assert "Traceback" not in result.err


async def test_a_configured_secret_signs_tokens_and_no_secret_file_is_written(place):
    configured = place.with_env(PARLEY_JWT_SECRET="c" * 32)
    await create_alice(configured)
    result = await parley(configured, "token", "alice")
    assert result.code == 0, result.err
    assert jwt.decode(result.out.strip(), "c" * 32, algorithms=["HS256"])["sub"] == "1"
    assert not place.secret_file.exists()


@pytest.mark.parametrize("command", [("serve",), ("migrate",), ("token", "alice")])
async def test_a_jwt_secret_under_32_bytes_is_refused_at_start_up(place, command):
    result = await parley(place.with_env(PARLEY_JWT_SECRET="too-short-secret"), *command)
    assert result.code != 0
    assert "PARLEY_JWT_SECRET" in result.err
    assert "32 bytes" in result.err
    assert "Traceback" not in result.err
    assert not place.database.exists()


async def test_refusing_a_short_secret_does_not_print_the_secret(place):
    secret = "hunter2-almost-long-enough-31by"
    result = await parley(place.with_env(PARLEY_JWT_SECRET=secret), "migrate")
    assert result.code != 0
    assert secret not in result.err
    assert secret not in result.out


async def test_an_empty_kept_secret_file_is_refused_at_start_up(place):
    place.data_dir.mkdir()
    place.secret_file.write_text("")
    result = await parley(place, "migrate")
    assert result.code != 0
    assert "jwt_secret" in result.err


@pytest.mark.parametrize(
    "args", [pytest.param((), id="no-command"), pytest.param(("frobnicate",), id="unknown")]
)
async def test_a_missing_or_unknown_command_prints_usage_and_exits_2(place, args):
    result = await parley(place, *args)
    assert result.code == 2
    assert "usage: parley" in result.err


async def test_serve_with_two_workers_needs_redis(place, unused_tcp_port):
    result = await parley(place, "serve", "--workers", "2", "--port", str(unused_tcp_port))
    assert result.code == 1
    assert "PARLEY_REDIS_URL" in result.err
    assert "--workers" in result.err
    assert "Traceback" not in result.err


async def test_serve_with_two_workers_refuses_polling_which_needs_sticky_sessions(place, unused_tcp_port):
    with_redis = place.with_env(PARLEY_REDIS_URL="redis://127.0.0.1:6379/0")
    result = await parley(with_redis, "serve", "--workers", "2", "--port", str(unused_tcp_port))
    assert result.code == 1
    assert "PARLEY_TRANSPORTS=websocket" in result.err
    assert "Traceback" not in result.err
