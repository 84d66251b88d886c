"""Verified tokens (server.chat.accounts.token_cache), on a clock the test moves.

A remembered token is the very ``Claims`` object its first decode made (``is``): a decode makes a
new one every time, so identity tells "served from the cache" from "decoded again".
"""

from __future__ import annotations

import time

import jwt
import pytest

from server.chat.accounts.security import TokenCodec
from server.chat.accounts.token_cache import VerifiedTokens
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.service import Chat

SECRET = "s" * 40
TTL = 3600
START = 1_800_000_000.0  # a whole second: the token's iat is exactly now


class Clock:
    """The wall clock, as far as the test moves it."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def codec(clock: Clock) -> TokenCodec:
    return TokenCodec(SECRET, TTL, clock=clock)


def outcome(decode: object, token: str) -> ErrorCode | None:
    """What a decode answers: None for a pass, else the error's code."""
    assert callable(decode)
    try:
        decode(token)
    except ChatError as exc:
        return exc.code
    return None


def test_a_token_is_served_from_memory_until_its_expiry_then_refused_token_expired(codec, clock):
    cache = VerifiedTokens(codec)
    token, _ = codec.issue(1, 7)
    first = cache.decode(token)

    clock.now = START + TTL - 0.001
    assert cache.decode(token) is first

    clock.now = START + TTL
    with pytest.raises(ChatError) as refused:
        cache.decode(token)
    assert refused.value.code is ErrorCode.TOKEN_EXPIRED
    assert len(cache) == 0  # forgotten: from now on the decoder answers, the same
    assert outcome(cache.decode, token) is ErrorCode.TOKEN_EXPIRED


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(START - 1, id="before-iat"),  # a clock set back after the first check
        pytest.param(START, id="at-iat"),
        pytest.param(START + TTL - 0.5, id="half-a-second-before-exp"),
        pytest.param(START + TTL, id="at-exp"),
        pytest.param(START + TTL + 1, id="after-exp"),
    ],
)
def test_a_remembered_token_is_refused_exactly_when_the_decoder_refuses_it(codec, clock, moment):
    cache = VerifiedTokens(codec)
    token, _ = codec.issue(1, 7)
    cache.decode(token)

    clock.now = moment
    assert outcome(cache.decode, token) == outcome(codec.decode, token)


def test_refused_tokens_are_not_remembered(codec, clock):
    cache = VerifiedTokens(codec)
    expired, _ = codec.issue(1, 7, ttl_seconds=-5)
    foreign, _ = TokenCodec("o" * 40, TTL, clock=clock).issue(1, 7)
    mistyped = jwt.encode({"sub": "alice", "iat": int(START), "exp": int(START) + TTL, "ver": 7}, SECRET)

    for token, code in [
        (expired, ErrorCode.TOKEN_EXPIRED),
        (foreign, ErrorCode.UNAUTHORIZED),
        (mistyped, ErrorCode.UNAUTHORIZED),
        ("garbage", ErrorCode.UNAUTHORIZED),
    ]:
        assert outcome(cache.decode, token) is code
        assert outcome(cache.decode, token) is code  # and the same again: nothing remembered
    assert len(cache) == 0


def test_the_cache_holds_at_most_its_size_dropping_the_least_recently_used(codec):
    cache = VerifiedTokens(codec, size=3)
    tokens = [codec.issue(user_id, 7)[0] for user_id in range(1, 6)]
    first = {token: cache.decode(token) for token in tokens[:3]}
    cache.decode(tokens[0])  # used again: now the newest

    for token in tokens[3:]:
        cache.decode(token)

    assert len(cache) == 3
    assert cache.decode(tokens[0]) is first[tokens[0]]
    assert cache.decode(tokens[1]) is not first[tokens[1]]  # dropped, decoded again
    assert len(cache) == 3


def test_remembered_claims_are_small_slotted_values(codec):
    claims = VerifiedTokens(codec).decode(codec.issue(1, 7)[0])
    assert not hasattr(claims, "__dict__")
    assert (claims.user_id, claims.version) == (1, 7)


# Through UserService.verify, whose user checks run on every call ---------------------------


async def _alice(chat: Chat) -> tuple[str, int]:
    actor = await chat.users.add_account("alice", "$2b$04$" + "a" * 53)
    token, _ = chat.users.tokens.issue(actor.id, actor.token_version)
    return token, actor.id


async def failure(chat: Chat, token: str) -> ErrorCode:
    with pytest.raises(ChatError) as refused:
        await chat.users.verify(token)
    return refused.value.code


async def test_verify_serves_a_remembered_token_until_its_expiry(chat):
    clock = Clock(float(int(time.time())))
    chat.users.tokens.clock = clock  # the codec's clock, which the cache judges by too
    token, user_id = await _alice(chat)
    _, first = await chat.users.verify(token)

    clock.now += chat.users.tokens.ttl - 1
    actor, again = await chat.users.verify(token)
    assert again is first and actor.id == user_id

    clock.now += 1
    assert await failure(chat, token) is ErrorCode.TOKEN_EXPIRED


async def test_a_remembered_token_whose_user_logged_out_is_refused_token_revoked_at_once(chat):
    token, _ = await _alice(chat)
    actor, first = await chat.users.verify(token)
    assert (await chat.users.verify(token))[1] is first  # remembered

    await chat.users.logout(actor)

    assert await failure(chat, token) is ErrorCode.TOKEN_REVOKED
    assert await failure(chat, token) is ErrorCode.TOKEN_REVOKED


async def test_a_remembered_token_of_a_disabled_user_is_refused(chat):
    token, _ = await _alice(chat)
    await chat.users.verify(token)

    await chat.accounts.disable("alice")

    assert await failure(chat, token) is ErrorCode.UNAUTHORIZED
