"""Tokens the application signs (PROTOCOL.md section 17), through the chat's one token check.

The chat is built from settings with the application's shared secret (HS256), so these tests go
through the composition (``chat_factory``), ``UserService.verify`` (what REST's Bearer and a
Socket.IO connect call) and the accounts found by issuer + subject, on a real SQLite file (and
PostgreSQL for the race of two first tokens on two nodes). The key set over HTTP and the forgeries
are tests/adapters/test_app_jwt.py's; a live socket bounded by the token's expiry is
tests/edge/sio/test_app_token_socket.py's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from db import migrate
from db.models import Identity, User
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.service import Chat
from server.chat_factory import build_chat
from server.config import Settings
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import PASSWORD, count, user_count
from tests.support import test_settings as settings_for

ISSUER = "https://app.example"
AUDIENCE = "parley-chat"
SECRET = "the application's shared secret, 32+ bytes long"
MAX_TTL = 3600


def app_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_jwt_secret": SECRET,
        "app_issuer": ISSUER,
        "app_audience": AUDIENCE,
        "app_token_max_ttl": MAX_TTL,
    }
    return settings_for(data_dir, **{**values, **overrides})


@pytest.fixture
def chat_settings(tmp_path: Path) -> Settings:
    return app_settings(tmp_path / "data")


def app_token(sub: str = "u-1", lifetime: int = 600, **changes: Any) -> str:
    """A token as the application signs it (pyjwt, HS256, the shared secret)."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + lifetime}
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, algorithm="HS256")


async def refused(chat: Chat, token: str) -> ChatError:
    with pytest.raises(ChatError) as caught:
        await chat.users.verify(token)
    return caught.value


async def test_the_first_token_makes_the_person_and_later_ones_find_them(chat):
    before = await user_count(chat)
    minted = int(time.time())  # the token's own clock: its exp is its iat + 600, whole seconds
    first, claims = await chat.users.verify(app_token(preferred_username="carol", name="Carol Danvers"))
    assert first.username == "carol" and claims.app
    # A second may turn between minting and this line (it did under CI's load): a range, not a point.
    assert claims.expires_at is not None
    assert minted + 600 <= claims.expires_at.timestamp() <= time.time() + 600
    again, _ = await chat.users.verify(app_token(preferred_username="someone-else", lifetime=900))
    assert again.id == first.id and again.username == "carol"  # found by iss + sub, not by name
    assert await user_count(chat) == before + 1
    async with chat.db.read() as repos:
        user = await repos.users.by_id(first.id)
        link = (await repos.session.execute(select(Identity))).scalar_one()
    assert user is not None and user.display_name == "Carol Danvers"
    assert (link.issuer, link.subject, link.user_id) == (ISSUER, "u-1", first.id)


async def test_without_a_preferred_username_the_name_comes_from_the_subject(chat):
    actor, _ = await chat.users.verify(app_token(sub="user 42@app"))
    assert actor.username == "user_42"  # made valid: the username rule of section 3


async def test_a_local_name_is_never_taken_over(chat):
    local = await chat.users.create("alice", PASSWORD)
    actor, _ = await chat.users.verify(app_token(sub="a-1", preferred_username="alice"))
    assert actor.id != local.id and actor.username == "alice2"
    await chat.topics.create(Actor(local.id, "alice"), "general")
    other, _ = await chat.users.verify(app_token(sub="g-1", preferred_username="general"))
    assert other.username == "general2"  # a topic's name is taken too (one namespace)


async def test_two_first_tokens_at_once_make_one_person(chat):
    before = await user_count(chat)
    found = await asyncio.gather(
        *(
            chat.users.verify(app_token(sub="twice", lifetime=600 + n, preferred_username="dan"))
            for n in range(4)
        )
    )
    assert len({actor.id for actor, _ in found}) == 1
    assert await user_count(chat) == before + 1


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two_nodes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Chat, Chat]]:
    """Two chats on one database (two engines, two write locks), as two servers are."""

    @asynccontextmanager
    async def pair(url: str | None) -> AsyncIterator[tuple[Chat, Chat]]:
        settings = app_settings(tmp_path / "data", database_url=url)
        first, second = build_chat(settings), build_chat(settings)
        await migrate.upgrade(first.db.engine)
        try:
            yield first, second
        finally:
            await first.db.dispose()
            await second.db.dispose()

    if request.param == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=True) as url, pair(url) as chats:
            yield chats
    else:
        async with pair(None) as chats:
            yield chats


async def test_first_tokens_on_two_nodes_at_once_make_one_person(two_nodes):
    first, second = two_nodes
    for round_ in range(3):
        tokens = [app_token(f"race-{round_}", 600 + n, preferred_username="erin") for n in range(4)]
        nodes = [first, second, first, second]
        found = await asyncio.gather(*(node.users.verify(t) for node, t in zip(nodes, tokens, strict=True)))
        assert len({actor.id for actor, _ in found}) == 1
    assert await count(first, Identity) == 3
    assert await count(first, User) == 3


async def test_times_are_judged_on_every_use(chat):
    now = int(time.time())
    expired = await refused(chat, app_token(iat=now - 100, exp=now - 1))
    assert expired.code == ErrorCode.TOKEN_EXPIRED
    assert (await refused(chat, app_token(lifetime=MAX_TTL + 1))).code == ErrorCode.UNAUTHORIZED
    too_far = app_token(iat=None, exp=now + MAX_TTL + 60)  # no iat: its expiry from now
    assert (await refused(chat, too_far)).code == ErrorCode.UNAUTHORIZED
    future = app_token(iat=now + 300, exp=now + 600)
    assert (await refused(chat, future)).code == ErrorCode.UNAUTHORIZED
    assert await user_count(chat) == 0  # no account for a token refused

    start = int(time.time())
    short = app_token(iat=start, exp=start + 2)
    await chat.users.verify(short)  # remembered now: its time is still judged on each use
    await _past(start + 2)
    assert (await refused(chat, short)).code == ErrorCode.TOKEN_EXPIRED


async def _past(instant: int) -> None:
    """Wait until the wall clock passes ``instant`` (bounded: at most 2 s here)."""
    async with asyncio.timeout(3.5):
        while time.time() <= instant:
            await asyncio.sleep(0.05)


async def test_forgeries_are_unauthorized_and_make_nobody(chat):
    now = int(time.time())
    forged = [
        jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60}, "x" * 40, algorithm="HS256"
        ),
        app_token(iss="https://evil.example"),
        app_token(aud="someone-else"),
        app_token(exp=None),
        app_token(sub=None),
        app_token(sub="s" * 256),  # longer than an identity can keep
    ]
    for token in forged:
        assert (await refused(chat, token)).code == ErrorCode.UNAUTHORIZED, token
    assert await user_count(chat) == 0


async def test_a_disabled_or_deleted_persons_token_is_refused(chat):
    actor, _ = await chat.users.verify(app_token(sub="f", preferred_username="frank"))
    token = app_token(sub="f", lifetime=601)
    await chat.users.verify(token)
    await chat.accounts.disable("frank")
    assert "disabled" in (await refused(chat, token)).message
    assert "disabled" in (await refused(chat, app_token(sub="f", lifetime=602))).message
    await chat.accounts.enable("frank")
    assert (await refused(chat, token)).code == ErrorCode.TOKEN_REVOKED  # as a Parley token's: revoked
    fresh = app_token(sub="f", lifetime=601, iat=int(time.time()) + 1)  # signed after the disable
    assert (await chat.users.verify(fresh))[0].id == actor.id
    await chat.accounts.delete("frank")
    assert (await refused(chat, token)).code == ErrorCode.UNAUTHORIZED
    assert (await refused(chat, app_token(sub="f", lifetime=603))).code == ErrorCode.UNAUTHORIZED
    assert await count(chat, Identity) == 1  # no second account for the deleted one's subject


async def test_parley_tokens_still_work_and_never_reach_the_application_check(chat):
    await chat.users.create("grace", PASSWORD)
    token = (await chat.users.issue_token("grace")).token
    assert (await chat.users.verify(token))[0].username == "grace"
    assert chat.users.app_tokens is not None and len(chat.users.app_tokens) == 0  # type: ignore[arg-type]


async def test_a_connection_takes_a_new_app_token_but_no_parley_token_is_made_from_one(chat):
    actor, _ = await chat.users.verify(app_token(sub="h", preferred_username="heidi"))
    minted = int(time.time())
    later = app_token(sub="h", lifetime=1200)
    expires = await chat.users.renew(actor, later)
    assert minted + 1200 <= expires.timestamp() <= time.time() + 1200  # a second may turn meanwhile
    with pytest.raises(ChatError) as another:
        await chat.users.renew(actor, app_token(sub="someone else"))
    assert another.value.code == ErrorCode.UNAUTHORIZED
    with pytest.raises(ChatError) as caught:
        await chat.users.refresh(later)
    assert caught.value.code == ErrorCode.UNAUTHORIZED and "application" in caught.value.message


async def test_a_closed_workspace_refuses_new_people_but_not_known_ones(tmp_path):
    settings = app_settings(tmp_path / "data", registration="closed")
    chat = build_chat(settings)
    await migrate.upgrade(chat.db.engine)
    await chat.start()
    try:
        refusal = await refused(chat, app_token(sub="new"))
        assert refusal.code == ErrorCode.UNAUTHORIZED and "existing accounts" in refusal.message
        assert await user_count(chat) == 0
    finally:
        await chat.stop()
        await chat.db.dispose()


async def test_a_revocation_refuses_the_tokens_issued_before_it_and_not_those_after(chat):
    """A logout (or the server API's disconnect with ``revoke``) reaches the application's tokens
    by their issue time: they carry no token version."""
    before = app_token(sub="u-rev", iat=int(time.time()) - 5)
    actor, _ = await chat.users.verify(before)
    undated = app_token(sub="u-rev", iat=None)
    await chat.users.verify(undated)
    await chat.users.logout(actor)

    assert (await refused(chat, before)).code == ErrorCode.TOKEN_REVOKED
    assert (await refused(chat, undated)).code == ErrorCode.TOKEN_REVOKED  # no iat: before any revocation
    after = app_token(sub="u-rev", iat=int(time.time()) + 1)  # signed after it (iat in whole seconds)
    again, _ = await chat.users.verify(after)
    assert again.id == actor.id
