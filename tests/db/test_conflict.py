"""``db.errors.Conflict``: a broken unique key reaches the domain as the data layer's own error.

The services catch ``Conflict`` (never SQLAlchemy's ``IntegrityError``) and answer ``conflict``;
these tests pin what raises it, on a real SQLite file (and PostgreSQL when it is configured).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from db.errors import Conflict
from db.models import Membership, User
from db.uow import Database
from tests.databases import migrated_database
from tests.support import rows_in


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with migrated_database(request.param, tmp_path, "conflict") as db:
        yield db


async def add_user(db: Database, name: str) -> int:
    async with db.write() as repos:
        return (await repos.users.add(name, "x", datetime.now(UTC), 1)).id


async def test_a_taken_username_added_through_the_repository_is_a_conflict(database):
    await add_user(database, "alice")

    with pytest.raises(Conflict) as caught:
        await add_user(database, "ALICE")  # names are unique in any case

    assert isinstance(caught.value.__cause__, IntegrityError)
    async with database.read() as repos:
        assert await rows_in(repos, User) == 1


async def test_a_second_membership_of_one_user_in_one_topic_is_a_conflict(database):
    user_id = await add_user(database, "alice")
    async with database.write() as repos:
        topic = await repos.topics.add("lobby", "public", datetime.now(UTC))
        await repos.memberships.add(topic, user_id, "member", datetime.now(UTC))

    with pytest.raises(Conflict):
        async with database.write() as repos:
            await repos.memberships.add(topic, user_id, "member", datetime.now(UTC))


async def test_a_duplicate_found_only_at_the_commit_is_a_conflict_too(database):
    await add_user(database, "alice")
    user = User(username="Alice", username_key="alice", password_hash="x", created_at=datetime.now(UTC))

    with pytest.raises(Conflict):
        async with database.write() as repos:
            repos.session.add(user)  # not flushed: the commit finds the duplicate


async def test_a_foreign_key_violation_is_a_bug_not_a_conflict(database):
    with pytest.raises(IntegrityError) as caught:
        async with database.write() as repos:
            repos.session.add(Membership(topic_id=999, user_id=999, joined_at=datetime.now(UTC)))

    assert not isinstance(caught.value, Conflict)
