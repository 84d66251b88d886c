"""What a single sign-on's new account is called (server/chat/accounts/sso_names.py)."""

from __future__ import annotations

import re
from itertools import islice

from hypothesis import given
from hypothesis import strategies as st

from server.chat.accounts.sso_names import candidates, display_name, username_base

VALID = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")  # PROTOCOL.md section 3


def test_the_username_comes_from_preferred_username_then_name_then_user():
    assert username_base("alice", "Alice Liddell") == "alice"
    assert username_base("ada.lovelace@example.org", None) == "ada.lovelace"
    assert username_base(None, "Élodie Ñúñez") == "Elodie_Nunez"
    assert username_base("", "   ") == "user"
    assert username_base("@@@", "李小龍") == "user"  # nothing of the username rule is left
    assert username_base("jo", None) == "jo_user"
    assert username_base("a" * 80, None) == "a" * 32


def test_candidates_count_up_then_take_random_suffixes_within_32_characters():
    found = list(islice(candidates("alice", iter(["4711"])), 100))
    assert found[:3] == ["alice", "alice2", "alice3"] and found[98] == "alice99" and found[99] == "alice4711"
    assert list(islice(candidates("b" * 32, iter([])), 2)) == ["b" * 32, "b" * 31 + "2"]


def test_the_display_name_is_cleaned_and_clipped():
    assert display_name("Carol \u202eÜnal\u0007") == "Carol Ünal"
    assert display_name("  Ada\n\tLovelace  ") == "Ada Lovelace"
    assert display_name("\u200b\u2066") == ""
    assert display_name(None) == ""
    assert len(display_name("x" * 100)) == 64


@given(st.one_of(st.none(), st.text(max_size=80)), st.one_of(st.none(), st.text(max_size=80)))
def test_every_derived_username_is_valid(preferred, name):
    base = username_base(preferred, name)
    assert VALID.match(base), base
    assert all(VALID.match(each) for each in islice(candidates(base, iter(["123456"])), 0, 101, 25))
    assert len(display_name(name)) <= 64
