"""Accounts (server.chat.accounts.users.UserService), called directly over a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bcrypt
import jwt
import pytest

from db.migrate import upgrade
from db.uow import Database
from server.chat.accounts.schemas import LoginIn, RegisterIn
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.service import Chat
from server.chat_factory import limits_from
from server.config import Settings
from tests.contract import utc
from tests.support import PASSWORD, statements, user_count

SECRET = "u" * 40
TTL = 3600


@asynccontextmanager
async def open_chat(tmp_path: Path, **limits: Any) -> AsyncIterator[Chat]:
    """The chat services over a fresh, migrated SQLite file."""
    limits.setdefault("bcrypt_rounds", 4)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'users.db'}")
    settings = Settings(_env_file=None, jwt_secret=SECRET, **limits)  # type: ignore[call-arg]
    chat = Chat(db, SECRET, TTL, limits_from(settings), ["lobby"])
    await upgrade(db.engine)
    await chat.start()
    try:
        yield chat
    finally:
        await chat.stop()
        await db.dispose()


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    async with open_chat(tmp_path) as opened:
        yield opened


async def register(chat: Chat, username: str, password: str = PASSWORD, source: str = "10.0.0.1") -> str:
    registered = await chat.users.register(RegisterIn(username=username, password=password), source)
    return registered.token


async def login(chat: Chat, username: str, password: str = PASSWORD, source: str = "10.0.0.1") -> str:
    return (await chat.users.login(LoginIn(username=username, password=password), source)).token


async def failure(call: Any) -> ChatError:
    with pytest.raises(ChatError) as caught:
        await call
    return caught.value


# Registration ----------------------------------------------------------------


async def test_registering_returns_a_token_that_authenticates_the_new_user(chat):
    registered = await chat.users.register(RegisterIn(username="alice", password=PASSWORD), "10.0.0.1")
    assert registered.user.username == "alice"
    actor = await chat.users.authenticate(registered.token)
    assert actor.username == "alice"
    assert await user_count(chat) == 1


async def test_a_username_is_stored_as_given_and_found_in_any_case(chat):
    actor = await chat.users.authenticate(await register(chat, "Alice"))
    profile = await chat.people.profile(actor, "aLiCe")
    assert profile.username == "Alice"


async def test_a_name_taken_in_another_case_is_a_conflict_and_stores_nothing(chat):
    await register(chat, "alice")
    error = await failure(register(chat, "ALICE"))
    assert error.code is ErrorCode.CONFLICT
    assert await user_count(chat) == 1


async def test_concurrent_sign_ups_of_one_name_store_exactly_one_user(chat):
    results = await asyncio.gather(
        register(chat, "dave"), register(chat, "DAVE"), register(chat, "Dave"), return_exceptions=True
    )
    tokens = [result for result in results if isinstance(result, str)]
    errors = [result for result in results if isinstance(result, ChatError)]
    assert len(tokens) == 1
    assert [error.code for error in errors] == [ErrorCode.CONFLICT] * 2
    assert await user_count(chat) == 1


async def test_the_password_is_stored_only_as_a_bcrypt_hash(chat):
    await register(chat, "alice")
    async with chat.db.read() as repos:
        user = await repos.users.by_name("alice")
    assert user is not None
    assert PASSWORD not in user.password_hash
    assert bcrypt.checkpw(PASSWORD.encode(), user.password_hash.encode())


async def test_a_new_user_is_a_member_of_the_default_topics(chat):
    await register(chat, "alice")
    async with chat.db.read() as repos:
        user = await repos.users.by_name("alice")
        assert user is not None and user.id is not None
        memberships = await repos.memberships.of_user(user.id)
    assert [topic.name for topic, _ in memberships] == ["lobby"]


async def test_sign_ups_are_limited_per_client_address(tmp_path):
    async with open_chat(tmp_path, register_per_hour=2) as chat:
        await register(chat, "alice", source="10.0.0.1")
        await register(chat, "bobby", source="10.0.0.1")
        error = await failure(register(chat, "carol", source="10.0.0.1"))
        assert error.code is ErrorCode.RATE_LIMITED
        assert await user_count(chat) == 2
        await register(chat, "carol", source="10.0.0.2")
        assert await user_count(chat) == 3


# Login -----------------------------------------------------------------------


async def test_login_with_the_right_password_issues_a_token_for_the_stored_name(chat):
    await register(chat, "Alice")
    issued = await chat.users.login(LoginIn(username="alice", password=PASSWORD), "10.0.0.1")
    assert (await chat.users.authenticate(issued.token)).username == "Alice"
    payload = jwt.decode(issued.token, SECRET, algorithms=["HS256"])
    assert payload["sub"] == "1"  # the account id: a name can be freed and taken again
    assert payload["exp"] == int(utc(issued.expires_at).timestamp())


async def test_a_wrong_password_and_an_unknown_user_fail_identically(chat):
    await register(chat, "alice")
    wrong_password = await failure(login(chat, "alice", "not-the-password"))
    unknown_user = await failure(login(chat, "nobody", PASSWORD))
    assert wrong_password.code is ErrorCode.UNAUTHORIZED
    assert (unknown_user.code, unknown_user.message) == (wrong_password.code, wrong_password.message)


async def test_the_internal_dummy_password_does_not_log_in_an_unknown_user(chat):
    error = await failure(login(chat, "nobody", "parley-dummy-password"))
    assert error.code is ErrorCode.UNAUTHORIZED


async def test_a_login_password_over_72_bytes_fails_even_if_it_starts_with_the_password(chat):
    password = "p" * 72
    await register(chat, "alice", password)
    error = await failure(login(chat, "alice", password + "tail"))
    assert error.code is ErrorCode.UNAUTHORIZED
    assert await login(chat, "alice", password)


async def test_failed_logins_are_limited_per_client_address(tmp_path):
    async with open_chat(tmp_path, login_per_hour=2) as chat:
        await register(chat, "alice")
        await login(chat, "alice", source="10.0.0.1")
        await login(chat, "alice", source="10.0.0.1")
        await login(chat, "alice", source="10.0.0.1")  # successful logins cost nothing
        for name in ("bobby", "carol"):
            assert (await failure(login(chat, name, source="10.0.0.1"))).code is ErrorCode.UNAUTHORIZED
        error = await failure(login(chat, "alice", source="10.0.0.1"))
        assert error.code is ErrorCode.RATE_LIMITED
        assert error.retry_after is not None and 0 < error.retry_after <= 1800
        assert await login(chat, "alice", source="10.0.0.2")


async def test_failed_logins_are_limited_per_account_from_any_address(tmp_path):
    async with open_chat(tmp_path, login_failures_per_account=3, login_failure_window=900) as chat:
        await register(chat, "alice")
        await register(chat, "bobby")
        for n in range(3):
            error = await failure(login(chat, "alice", "wrong-password", source=f"10.0.0.{n}"))
            assert error.code is ErrorCode.UNAUTHORIZED
        error = await failure(login(chat, "ALICE", source="10.0.0.9"))
        assert error.code is ErrorCode.RATE_LIMITED
        assert error.retry_after is not None and 0 < error.retry_after <= 300
        assert await login(chat, "bobby", source="10.0.0.0")


async def test_a_sign_up_refused_for_the_rate_carries_when_to_retry(tmp_path):
    async with open_chat(tmp_path, register_per_hour=1) as chat:
        await register(chat, "alice")
        error = await failure(register(chat, "bobby"))
        assert error.code is ErrorCode.RATE_LIMITED
        assert error.retry_after is not None and 0 < error.retry_after <= 3600


# Tokens and logout -------------------------------------------------------------


@pytest.mark.parametrize("token", [None, ""])
async def test_authenticating_without_a_token_is_unauthorized(chat, token):
    error = await failure(chat.users.authenticate(token))
    assert error.code is ErrorCode.UNAUTHORIZED


async def test_a_valid_token_for_a_user_that_does_not_exist_is_unauthorized(chat):
    token, _ = chat.users.tokens.issue("ghost", 0)
    error = await failure(chat.users.authenticate(token))
    assert error.code is ErrorCode.UNAUTHORIZED


async def test_an_expired_token_is_token_expired(chat):
    await register(chat, "alice")
    token, _ = chat.users.tokens.issue("alice", 0, ttl_seconds=-5)
    error = await failure(chat.users.authenticate(token))
    assert error.code is ErrorCode.TOKEN_EXPIRED


async def test_logout_revokes_every_earlier_token_and_later_logins_work(chat):
    first = await register(chat, "alice")
    second = await login(chat, "alice")
    actor = await chat.users.authenticate(second)
    await chat.users.logout(actor)
    for token in (first, second):
        error = await failure(chat.users.authenticate(token))
        assert error.code is ErrorCode.TOKEN_REVOKED
    fresh = await login(chat, "alice")
    assert await chat.users.authenticate(fresh) == actor


async def test_a_token_checked_again_is_not_looked_up_again_and_logout_still_revokes_it_at_once(chat):
    token = await register(chat, "alice")
    actor = await chat.users.authenticate(token)

    with statements(chat.db) as seen:
        assert await chat.users.authenticate(token) == actor
    assert seen == []

    await chat.users.logout(actor)
    assert (await failure(chat.users.authenticate(token))).code is ErrorCode.TOKEN_REVOKED
    fresh = await login(chat, "alice")
    assert await chat.users.authenticate(fresh) == actor
    with statements(chat.db) as seen:
        assert (await failure(chat.users.authenticate(token))).code is ErrorCode.TOKEN_REVOKED
        assert await chat.users.authenticate(fresh) == actor
    assert seen == []


async def test_logout_of_one_user_leaves_other_users_tokens_valid(chat):
    alice = await register(chat, "alice")
    bobby = await register(chat, "bobby")
    await chat.users.logout(await chat.users.authenticate(alice))
    assert (await chat.users.authenticate(bobby)).username == "bobby"


async def test_an_operator_token_needs_no_password_and_honours_its_lifetime(chat):
    await register(chat, "alice")
    issued = await chat.users.issue_token("ALICE", ttl_seconds=120)
    payload = jwt.decode(issued.token, SECRET, algorithms=["HS256"])
    assert payload["sub"] == "1"
    assert payload["exp"] - payload["iat"] == 120
    assert (await chat.users.authenticate(issued.token)).username == "alice"


async def test_an_operator_token_for_an_unknown_user_is_not_found(chat):
    error = await failure(chat.users.issue_token("ghost"))
    assert error.code is ErrorCode.NOT_FOUND


async def test_an_operator_token_issued_after_a_logout_is_valid(chat):
    token = await register(chat, "alice")
    await chat.users.logout(await chat.users.authenticate(token))
    issued = await chat.users.issue_token("alice")
    assert (await chat.users.authenticate(issued.token)).username == "alice"


# Profiles --------------------------------------------------------------------


async def test_a_new_profile_is_offline_never_seen_and_created_now_in_utc(chat):
    before = datetime.now(UTC).replace(microsecond=0)
    actor = await chat.users.authenticate(await register(chat, "alice"))
    profile = await chat.people.profile(actor, "alice")
    assert profile.online is False
    assert profile.last_seen is None
    assert before <= utc(profile.created_at) <= datetime.now(UTC)


async def test_a_profile_is_online_while_the_user_has_a_socket(chat):
    actor: Actor = await chat.users.authenticate(await register(chat, "alice"))
    await chat.presence.socket_opened(actor.id, actor.username)
    assert (await chat.people.profile(actor, "alice")).online is True


async def test_presence_in_a_profile_is_shown_only_to_those_the_presence_rule_allows(chat):
    alice = await chat.users.authenticate(await register(chat, "alice"))
    bob = await chat.users.authenticate(await register(chat, "bob"))
    carol = await chat.users.authenticate(await register(chat, "carol"))
    await chat.presence.socket_opened(alice.id, alice.username)
    await chat.topics.open_conversation(alice, "bob")

    seen_by_bob = await chat.people.profile(bob, "alice")
    seen_by_carol = await chat.people.profile(carol, "alice")

    assert (seen_by_bob.online, seen_by_bob.username, seen_by_bob.availability) == (True, "alice", "online")
    assert (seen_by_carol.online, seen_by_carol.last_seen, seen_by_carol.availability) == (None, None, None)
    assert seen_by_carol.created_at == seen_by_bob.created_at


async def test_the_profile_of_an_unknown_user_is_not_found(chat):
    actor = await chat.users.authenticate(await register(chat, "alice"))
    error = await failure(chat.people.profile(actor, "ghost"))
    assert error.code is ErrorCode.NOT_FOUND
