"""Password hashing and token checks (server.chat.accounts.security), called directly."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import bcrypt
import jwt
import pytest

from server.chat.accounts.security import PasswordHasher, TokenCodec
from server.chat.kernel.errors import ChatError, ErrorCode

SECRET = "s" * 40
TTL = 3600
# Tokens built when the tests are collected must outlive a long run (the whole suite takes
# well over ten minutes on a busy machine): a day.
LIFETIME = 86_400


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(rounds=4)


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(SECRET, TTL)


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for ``alice``; an override of ``None`` removes the claim."""
    now = int(time.time())
    values: dict[str, Any] = {"sub": "1", "iat": now, "exp": now + LIFETIME, "ver": 0}
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def refused(codec: TokenCodec, token: str) -> ErrorCode:
    with pytest.raises(ChatError) as caught:
        codec.decode(token)
    return caught.value.code


# Passwords -----------------------------------------------------------------


async def test_a_hashed_password_verifies_and_a_different_one_does_not(hasher):
    hashed = await hasher.hash("correct horse")
    assert await hasher.verify("correct horse", hashed) is True
    assert await hasher.verify("correct horsE", hashed) is False


async def test_the_hash_is_bcrypt_at_the_configured_cost_never_the_password(hasher):
    hashed = await hasher.hash("correct horse")
    assert hashed.startswith("$2b$04$")
    assert "correct horse" not in hashed
    assert bcrypt.checkpw(b"correct horse", hashed.encode())


async def test_the_same_password_hashes_differently_each_time(hasher):
    assert await hasher.hash("correct horse") != await hasher.hash("correct horse")


async def test_an_unknown_user_never_verifies_and_raises_nothing(hasher):
    assert await hasher.verify("anything at all", None) is False
    assert await hasher.verify("", None) is False


async def test_the_dummy_password_does_not_verify_for_an_unknown_user(hasher):
    assert await hasher.verify("parley-dummy-password", None) is False


async def test_a_password_of_exactly_72_bytes_verifies(hasher):
    password = "p" * 72
    assert await hasher.verify(password, await hasher.hash(password)) is True


async def test_a_password_over_72_bytes_never_verifies_even_if_it_starts_with_the_real_one(hasher):
    password = "p" * 72
    hashed = await hasher.hash(password)
    assert await hasher.verify(password + "extra", hashed) is False


async def test_multibyte_passwords_are_hashed_as_utf8(hasher):
    password = "é" * 36  # 72 bytes
    hashed = await hasher.hash(password)
    assert await hasher.verify(password, hashed) is True
    assert await hasher.verify("e" * 36, hashed) is False
    assert await hasher.verify(password + "é", hashed) is False  # 74 bytes


# Tokens --------------------------------------------------------------------


def test_an_issued_token_decodes_to_its_claims(codec):
    token, expires = codec.issue(1, 3)
    decoded = codec.decode(token)
    assert decoded.user_id == 1
    assert decoded.version == 3
    assert decoded.expires_at - decoded.issued_at == timedelta(seconds=TTL)
    assert int(decoded.expires_at.timestamp()) == int(expires.timestamp())


def test_tokens_are_hs256_jwts_with_sub_iat_exp(codec):
    token, _ = codec.issue(1, 0)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert payload["sub"] == "1"
    assert payload["exp"] - payload["iat"] == TTL


def test_a_lifetime_given_at_issue_overrides_the_default(codec):
    token, _ = codec.issue(1, 0, ttl_seconds=60)
    decoded = codec.decode(token)
    assert decoded.expires_at - decoded.issued_at == timedelta(seconds=60)


def test_an_expired_token_is_token_expired(codec):
    token, _ = codec.issue(1, 0, ttl_seconds=-5)
    assert refused(codec, token) is ErrorCode.TOKEN_EXPIRED


def test_a_token_signed_with_another_secret_is_unauthorized(codec):
    token, _ = TokenCodec("o" * 40, TTL).issue(1, 0)
    assert refused(codec, token) is ErrorCode.UNAUTHORIZED


def test_an_unsigned_alg_none_token_is_unauthorized(codec):
    token = jwt.encode(claims(), None, algorithm="none")
    assert refused(codec, token) is ErrorCode.UNAUTHORIZED


def test_the_algorithm_is_pinned_even_with_the_right_secret(codec):
    token = jwt.encode(claims(), SECRET * 2, algorithm="HS512")
    assert refused(codec, token) is ErrorCode.UNAUTHORIZED


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"iat": None}, id="no-iat"),
        pytest.param({"sub": None}, id="no-sub"),
        pytest.param({"exp": str(int(time.time()) + LIFETIME)}, id="string-exp"),
        pytest.param({"exp": time.time() + LIFETIME + 0.5}, id="float-exp"),
        pytest.param({"iat": str(int(time.time()))}, id="string-iat"),
        pytest.param({"sub": 42}, id="integer-sub"),
        pytest.param({"ver": "0"}, id="string-ver"),
        pytest.param({"ver": False}, id="boolean-ver"),
        pytest.param({"ver": None}, id="no-ver"),
        pytest.param({"sub": "alice"}, id="name-sub"),
        pytest.param({"sub": "0"}, id="zero-sub"),
        pytest.param({"sub": "-1"}, id="negative-sub"),
        pytest.param({"sub": chr(0x661)}, id="arabic-indic-digit-sub"),
        pytest.param({"sub": "9" * 19}, id="sub-past-int64"),
        pytest.param({"sub": "9" * 5000}, id="sub-5000-digits"),
        pytest.param({"exp": 10**20}, id="exp-past-year-9999"),
        pytest.param({"exp": 1e20}, id="float-huge-exp"),
        pytest.param({"iat": -1}, id="negative-iat"),
        pytest.param({"iat": 10**20}, id="iat-past-year-9999"),
        pytest.param({"exp": 2**63}, id="exp-2**63"),
    ],
)
def test_a_token_with_missing_or_mistyped_claims_is_unauthorized(codec, changes):
    token = jwt.encode(claims(**changes), SECRET, algorithm="HS256")
    assert refused(codec, token) is ErrorCode.UNAUTHORIZED


@pytest.mark.parametrize(
    "garbage", ["", "garbage", "a.b.c", "Bearer x", "eyJhbGciOiJIUzI1NiJ9.e30.", "\ud800", "a.b\udfff.c"]
)
def test_garbage_is_unauthorized(codec, garbage):
    assert refused(codec, garbage) is ErrorCode.UNAUTHORIZED


def test_the_times_are_judged_on_the_codecs_clock_with_no_leeway():
    start = 1_800_000_000.0
    now = [start]
    codec = TokenCodec(SECRET, TTL, clock=lambda: now[0])
    token, _ = codec.issue(1, 0)

    now[0] = start + TTL - 0.001
    assert codec.decode(token).user_id == 1
    now[0] = start + TTL  # exp == now: expired, as pyjwt has it
    assert refused(codec, token) is ErrorCode.TOKEN_EXPIRED
    now[0] = start - 1  # issued in this clock's future
    assert refused(codec, token) is ErrorCode.UNAUTHORIZED
