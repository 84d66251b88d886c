"""``parley user role NAME owner|admin|member`` (PROTOCOL.md section 19): the operator acts as an
owner, the last owner cannot be demoted (a refusal, exit 1, nothing changed), each change audited."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.runner import Place, parley, place_in
from tests.cli.test_operator import create

pytestmark = pytest.mark.timeout(180)  # several commands per test, each a new process


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return place_in(tmp_path)


def roles(place: Place) -> list[tuple[str, str]]:
    with sqlite3.connect(place.database) as connection:
        return connection.execute("SELECT username, role FROM users ORDER BY id").fetchall()


async def test_the_first_account_owns_and_the_operator_sets_roles(place):
    await create(place, "alice", "bob")
    assert roles(place) == [("alice", "owner"), ("bob", "member")]
    made = await parley(place, "user", "role", "BOB", "admin")
    assert made.code == 0, made.err
    assert made.out == "bob is now admin (was member)\n"
    same = await parley(place, "user", "role", "bob", "admin", "--json")
    assert same.code == 0, same.err
    assert json.loads(same.out) == {"username": "bob", "role": "admin", "was": "admin"}
    owner = await parley(place, "user", "role", "bob", "owner")
    assert owner.code == 0, owner.err
    demoted = await parley(place, "user", "role", "alice", "member")
    assert demoted.code == 0, demoted.err
    assert roles(place) == [("alice", "member"), ("bob", "owner")]
    with sqlite3.connect(place.database) as connection:
        audited = connection.execute(
            "SELECT actor, target, details FROM audit_log WHERE action = 'user.role' ORDER BY id"
        ).fetchall()
    assert [(who, target) for who, target, _ in audited] == [("cli", "bob"), ("cli", "bob"), ("cli", "alice")]
    assert json.loads(audited[0][2]) == {"role": "admin", "was": "member"}


async def test_the_last_owner_cannot_be_demoted(place):
    await create(place, "alice")
    refused = await parley(place, "user", "role", "alice", "admin")
    assert refused.code == 1
    assert refused.err.startswith("parley: forbidden: the last owner cannot stop being one")
    assert "Traceback" not in refused.err
    assert roles(place) == [("alice", "owner")]


async def test_an_unknown_user_or_role_is_refused(place):
    await create(place, "alice")
    unknown = await parley(place, "user", "role", "nobody", "admin")
    assert unknown.code == 1 and unknown.err == "parley: not_found: no user named 'nobody'\n"
    bad = await parley(place, "user", "role", "alice", "king")
    assert bad.code == 2 and "invalid choice" in bad.err
    assert roles(place) == [("alice", "owner")]
