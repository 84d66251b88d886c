"""Sessions that last (server.chat.accounts.sessions.SessionService, PROTOCOL.md section 19), called
directly over a real SQLite file on a clock the test moves: the cookie's rotation, the grace of two
tabs refreshing at once, replay (the whole session ends), expiry since the last use, ending."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.accounts.records import UserRecord
from server.chat.accounts.schemas import RegisterIn
from server.chat.accounts.sessions import ENDED, NO_SESSION, REPLAYED, Cookie, Opened, SessionService
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.service import Chat
from tests.chat.accounts.test_token_cache import Clock
from tests.chat.accounts.test_users import open_chat
from tests.support import PASSWORD

DAYS = 30
GRACE = 5.0
DAY = 86400.0
START = float(int(time.time()))  # the real time, so that ``EndedSessions.load`` (wall clock) agrees


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    async with open_chat(tmp_path) as opened:
        yield opened


@pytest.fixture
def service(chat: Chat, clock: Clock) -> SessionService:
    """Sessions on the chat's database, token codec and memory of ended sessions, on ``clock``."""
    return SessionService(chat.db, chat.users.tokens, chat.users.ended, DAYS, GRACE, clock=clock)


@pytest.fixture
async def user(chat: Chat) -> UserRecord:
    await chat.users.register(RegisterIn(username="alice", password=PASSWORD))
    async with chat.db.read() as repos:
        found = await repos.users.by_name("alice")
    assert found is not None
    return found


async def opened(service: SessionService, user: UserRecord, agent: str = "laptop") -> tuple[Actor, Opened]:
    """A new session of ``user`` (a sign-in): the actor of its tokens and what the sign-in gave."""
    first = await service.open(user.id, user.token_version, agent, "127.0.0.1")
    return Actor(user.id, user.username, session_id=first.session_id), first


async def refused(service: SessionService, cookie: str | None) -> str:
    """The message of the ``unauthorized`` a refresh with ``cookie`` answers."""
    with pytest.raises(ChatError) as error:
        await service.refresh(cookie)
    assert error.value.code is ErrorCode.UNAUTHORIZED
    return error.value.message


async def state(chat: Chat, session_id: str):  # type: ignore[no-untyped-def]
    async with chat.db.read() as repos:
        found = await repos.sessions.get(session_id)
    assert found is not None
    return found


async def test_a_refresh_turns_the_cookie_over_and_gives_a_token_of_the_session(service, chat, user, clock):
    actor, first = await opened(service, user)
    assert first.cookie is not None and first.max_age == DAYS * 86400
    assert Cookie.parse(first.cookie).generation == 1

    clock.now += 3600
    second = await service.refresh(first.cookie)

    assert second.cookie is not None and second.session_id == actor.session_id
    turned = Cookie.parse(second.cookie)
    assert (turned.session_id, turned.generation) == (actor.session_id, 2)
    assert turned.secret != Cookie.parse(first.cookie).secret
    claims = chat.users.tokens.decode(second.token.token)
    assert (claims.user_id, claims.session_id) == (actor.id, actor.session_id)
    record = await state(chat, first.session_id)
    assert record.generation == 2 and record.last_used_at.timestamp() == clock.now
    assert record.expires_at.timestamp() == clock.now + DAYS * DAY  # since the last use
    third = await service.refresh(second.cookie)
    assert third.cookie is not None and Cookie.parse(third.cookie).generation == 3


async def test_the_cookie_just_replaced_gets_a_token_within_the_grace_and_no_new_cookie(
    service, chat, user, clock
):
    _, first = await opened(service, user)
    second = await service.refresh(first.cookie)

    clock.now += GRACE  # the other tab, at the edge of the grace
    late_tab = await service.refresh(first.cookie)

    assert late_tab.cookie is None  # the browser keeps the cookie the first tab's answer set
    assert chat.users.tokens.decode(late_tab.token.token).session_id == first.session_id
    assert (await state(chat, first.session_id)).generation == 2  # not turned again
    assert (await service.refresh(second.cookie)).cookie is not None  # the winner's cookie goes on


async def test_the_cookie_just_replaced_after_the_grace_is_a_replay_that_ends_the_session(
    service, chat, user, clock
):
    actor, first = await opened(service, user)
    second = await service.refresh(first.cookie)

    clock.now += GRACE + 1
    assert await refused(service, first.cookie) == REPLAYED

    record = await state(chat, first.session_id)
    assert record.revoked_at is not None and record.revoked_at.timestamp() == clock.now
    assert await refused(service, second.cookie) == ENDED  # the thief's or the victim's: both out
    assert await service.listed(actor) == []


async def test_a_cookie_two_generations_old_is_a_replay_at_once(service, chat, user, clock):
    _, first = await opened(service, user)
    second = await service.refresh(first.cookie)
    third = await service.refresh(second.cookie)

    assert await refused(service, first.cookie) == REPLAYED  # no grace covers generation 1 now
    assert await refused(service, third.cookie) == ENDED


async def test_a_made_up_cookie_of_an_older_generation_ends_nothing(service, chat, user, clock):
    """A session id is in every access token (expired ones too): with it, a cookie of an older
    generation whose secret the server did not make is no replay, and signs nobody out."""
    _, first = await opened(service, user)
    second = await service.refresh(first.cookie)
    third = await service.refresh(second.cookie)
    clock.now += GRACE + 1

    for generation in (1, 2):
        made_up = str(Cookie(first.session_id, generation, "x" * 64))
        assert await refused(service, made_up) == NO_SESSION
    assert first.session_id not in chat.users.ended
    assert (await service.refresh(third.cookie)).cookie is not None  # the session goes on


async def test_a_replay_is_news_for_every_node_and_refuses_the_sessions_tokens(service, chat, user, clock):
    _, first = await opened(service, user)
    await service.refresh(first.cookie)
    assert await refused(service, str(Cookie(first.session_id, 99, "x"))) == NO_SESSION
    assert first.session_id not in chat.users.ended  # a generation ahead ends nothing

    clock.now += GRACE + 1
    await refused(service, first.cookie)

    assert first.session_id in chat.users.ended  # the hub's SessionEnded reached this node's memory
    with pytest.raises(ChatError) as error:
        await chat.users.verify(first.token.token)
    assert error.value.code is ErrorCode.TOKEN_REVOKED


async def test_a_wrong_secret_of_the_current_generation_ends_nothing(service, chat, user):
    _, first = await opened(service, user)
    cookie = Cookie.parse(first.cookie)

    assert await refused(service, str(Cookie(cookie.session_id, 1, "guessed"))) == NO_SESSION
    assert await refused(service, f"{cookie.session_id}.0.guessed") == NO_SESSION  # never issued
    assert await refused(service, str(Cookie(cookie.session_id, 2, "guessed"))) == NO_SESSION  # ahead

    assert (await state(chat, first.session_id)).revoked_at is None
    assert (await service.refresh(first.cookie)).cookie is not None


@pytest.mark.parametrize(
    "value",
    [None, "", "x", "a.b", "a.1.b.c", "a.-1.b", "a.x.b", ".1.b", "a.1.", "a.1234567890.b", "a.0.b", "é.1.b"],
)
async def test_cookies_of_no_shape_of_ours_are_unauthorized(service, value):
    assert await refused(service, value) == NO_SESSION


async def test_a_session_expires_days_after_its_last_use_not_after_its_start(service, chat, user, clock):
    actor, first = await opened(service, user)

    clock.now += DAYS * DAY - 1  # a day short of the end... a second short: still open
    used = await service.refresh(first.cookie)
    clock.now += DAYS * DAY - 1  # 60 days since the start, 30 less a second since the last use
    again = await service.refresh(used.cookie)
    assert again.cookie is not None

    clock.now += DAYS * DAY  # exactly 30 days unused
    assert await refused(service, again.cookie) == ENDED
    assert await service.listed(actor) == []  # an expired session is not listed
    assert (await state(chat, first.session_id)).revoked_at is None  # expired, not ended


async def test_ending_a_session_refuses_its_cookie_and_lists_the_rest(service, chat, user, clock):
    actor, laptop = await opened(service, user, "laptop")
    _, phone = await opened(service, user, "phone")
    clock.now += 60
    await service.refresh(laptop.cookie)  # the laptop is the last used now

    listed = await service.listed(actor)
    assert [(s.user_agent, s.current) for s in listed] == [("laptop", True), ("phone", False)]

    await service.end(actor, phone.session_id)
    assert await refused(service, phone.cookie) == ENDED
    assert phone.session_id in chat.users.ended
    assert [s.id for s in await service.listed(actor)] == [laptop.session_id]
    for again in (phone.session_id, "nosuch", "x" * 500):
        with pytest.raises(ChatError) as error:
            await service.end(actor, again)
        assert error.value.code is ErrorCode.NOT_FOUND


async def test_someone_elses_session_cannot_be_ended(service, chat, user):
    _, mine = await opened(service, user)
    await chat.users.register(RegisterIn(username="mallory", password=PASSWORD))
    async with chat.db.read() as repos:
        mallory = await repos.users.by_name("mallory")
    assert mallory is not None
    with pytest.raises(ChatError) as error:
        await service.end(Actor(mallory.id, "mallory"), mine.session_id)
    assert error.value.code is ErrorCode.NOT_FOUND
    assert not await service.end_by_cookie(mine.cookie, mallory.id)
    assert (await service.refresh(mine.cookie)).cookie is not None


async def test_end_by_cookie_takes_the_current_or_just_replaced_cookie_only(service, chat, user, clock):
    _, first = await opened(service, user)
    second = await service.refresh(first.cookie)
    third = await service.refresh(second.cookie)
    assert not await service.end_by_cookie(first.cookie)  # stale: ends nothing (and is no replay)
    assert not await service.end_by_cookie("garbage")

    assert await service.end_by_cookie(second.cookie)  # the one just replaced, within the grace
    assert await refused(service, third.cookie) == ENDED
    assert not await service.end_by_cookie(third.cookie)  # nothing left to end


async def test_a_disabled_account_cannot_refresh(service, chat, user, clock):
    actor, first = await opened(service, user)
    async with chat.db.write() as repos:
        await repos.users.update_fields(actor.id, disabled_at=datetime.fromtimestamp(clock(), UTC))
    assert await refused(service, first.cookie) == ENDED


async def test_end_others_keeps_the_callers_session(service, chat, user):
    actor, here = await opened(service, user, "here")
    _, there = await opened(service, user, "there")
    _, elsewhere = await opened(service, user, "elsewhere")

    assert await service.end_others(actor) == 2

    assert [s.id for s in await service.listed(actor)] == [here.session_id]
    for gone in (there, elsewhere):
        assert await refused(service, gone.cookie) == ENDED
        assert gone.session_id in chat.users.ended
    assert (await service.refresh(here.cookie)).cookie is not None
