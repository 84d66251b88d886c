"""Hypothesis strategies for the fuzz tests of every event and route (DESIGN.md "Testing").

Values are JSON a client can send: no NaN or infinity, and (except where a test asks for
them) no lone surrogates, which make a Socket.IO packet undecodable (PROTOCOL.md 5a, tested
in tests/edge/sio/test_engineio.py). Integers stay inside a signed 64-bit column unless a test
asks for ``HUGE`` ones; those have their own properties. Profiles: tests/conftest.py.
"""

from __future__ import annotations

import json
import operator
from typing import Any

from hypothesis import strategies as st

# Section 2: every error code there is.
CODES = {
    "invalid",
    "unauthorized",
    "token_expired",
    "token_revoked",
    "forbidden",
    "not_found",
    "conflict",
    "rate_limited",
    "too_large",
    "internal",
}
INT64 = (-(2**63), 2**63 - 1)
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
ODD_CHARS = "\x00\x01\x7f" + ZERO_WIDTH + "\u200e\u200f\u202e\u00a0\u3000 \t\r\n"
# Names the server holds (see each module's set-up), their case variants, and some it does not.
NAMES = ["general", "GENERAL", "secret", "lobby", "alice", "bob", "Bob", "nobody", "@bob", "..", "x" * 64]
MAX_FRAME = 48_000  # JSON bytes; the transport closes a socket on a frame over 64 KiB (section 2)


def characters(surrogates: bool = False) -> st.SearchStrategy[str]:
    return st.characters() if surrogates else st.characters(exclude_categories=["Cs"])


LONE_SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)


def text(surrogates: bool = False) -> st.SearchStrategy[str]:
    """Short strings: anything, odd characters only (empty, whitespace, zero-width, NUL), names."""
    strings = st.one_of(
        st.text(characters(surrogates), max_size=40),
        st.text(st.sampled_from(ODD_CHARS), max_size=6),
        st.sampled_from(NAMES),
        st.builds(operator.add, st.sampled_from(NAMES), st.text(st.sampled_from(ODD_CHARS), min_size=1)),
    )
    return strings | st.builds(operator.add, strings, LONE_SURROGATE) if surrogates else strings


def long_text() -> st.SearchStrategy[str]:
    """Strings around the limits: 64 (names, client ids) and 4000 (bodies) code points."""
    unit = st.sampled_from(["x", "\u00e9", "\U0001f600", "\u200b", " ", "\x00"])
    size = st.integers(62, 66) | st.integers(3998, 4002)
    return st.builds(operator.mul, unit, size)


def integers(huge: bool = False) -> st.SearchStrategy[int]:
    small = st.integers(-3, 50) | st.integers(*INT64) | st.sampled_from([2**62, 2**63 - 1, -(2**63)])
    return small | HUGE if huge else small


# Past a signed 64-bit column: up to 2**64 - 1 the server's JSON decoder keeps an int, beyond it a float.
HUGE = st.integers(2**63, 2**64 - 1) | st.sampled_from([2**63, 2**64 - 1, 2**64, 2**70, -(2**63) - 1])


def scalars(surrogates: bool = False) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        text(surrogates),
    )


def json_values(surrogates: bool = False) -> st.SearchStrategy[Any]:
    """Any JSON value, nested a little."""
    return st.recursive(
        scalars(surrogates),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text(surrogates), inner, max_size=4),
        max_leaves=10,
    )


def odd(surrogates: bool = False) -> st.SearchStrategy[Any]:
    """A field value of any type: scalars, long strings, lists and objects."""
    return st.one_of(scalars(surrogates), long_text(), json_values(surrogates))


# Field kinds of the payloads (PROTOCOL.md section 3): a few good values mixed with odd ones.
def field(kind: str, surrogates: bool = False) -> st.SearchStrategy[Any]:
    good: dict[str, st.SearchStrategy[Any]] = {
        "topic": st.sampled_from(["general", "secret", "lobby", "GENERAL", "nowhere"])
        | st.from_regex(r"[A-Za-z0-9_.\-]{1,64}", fullmatch=True),
        "user": st.sampled_from(["bob", "alice", "BOB", "nobody"])
        | st.from_regex(r"[A-Za-z0-9_.\-]{3,32}", fullmatch=True),
        "body": text(surrogates) | long_text(),
        "int": integers(),
        "bool": st.booleans(),
        "client_id": text(surrogates) | long_text(),
        "password": st.just("password123") | text(surrogates) | long_text(),
    }
    return good[kind] | odd(surrogates)


def shaped(fields: dict[str, str], surrogates: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """An object with some of ``fields`` (name -> kind), each good or odd, plus maybe a stray key."""
    optional = {name: field(kind, surrogates) for name, kind in fields.items()}
    stray = st.dictionaries(text(surrogates), odd(surrogates), max_size=1)
    known = st.fixed_dictionaries({}, optional=optional)
    return st.builds(lambda known, extra: {**extra, **known}, known, stray)


def payloads(fields: dict[str, str], surrogates: bool = False) -> st.SearchStrategy[Any]:
    """A payload of the right shape with odd values, or any JSON value at all."""
    return (shaped(fields, surrogates) | json_values(surrogates) | odd(surrogates)).filter(fits)


def with_lone_surrogate(fields: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    """A payload of the right shape where one field (or a stray key) holds a lone surrogate."""
    keys = st.sampled_from(sorted(fields) or ["stray"])
    spoilt = st.builds(operator.add, text(), LONE_SURROGATE)
    return st.builds(lambda payload, key, value: {**payload, key: value}, shaped(fields), keys, spoilt)


def fits(value: Any) -> bool:
    return len(json.dumps(value)) < MAX_FRAME
