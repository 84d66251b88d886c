"""The query language's parser and the highlight (server/chat/search/service.py), without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.search import Term
from server.chat.kernel.errors import ChatError
from server.chat.search.service import decode_cursor, encode_cursor, highlight, parse


def test_words_phrases_prefixes_and_negations():
    parsed = parse('Deploy* "quick brown" -fox -"lazy dog" e-mail "half"* ')
    assert parsed.terms == (
        Term(("Deploy",), prefix=True),
        Term(("quick", "brown")),
        Term(("fox",), negated=True),
        Term(("lazy", "dog"), negated=True),
        Term(("e", "mail")),
        Term(("half",), prefix=True),
    )
    assert not parsed.operators


def test_operators_in_any_case_and_their_values():
    parsed = parse(
        "FROM:@Bob in:Dev before:2026-01-02 after:2025-12-01 after:2025-12-20 has:file is:mention IS:THREAD"
    )
    assert parsed.senders == {"bob"} and parsed.places == {"dev"}
    assert parsed.before == date(2026, 1, 2) and parsed.after == date(2025, 12, 20)
    assert parsed.has_file and parsed.mention and parsed.thread and parsed.terms == ()
    assert parse("in:@Alice").places == {"@alice"}


@pytest.mark.parametrize(
    ("q", "tokens"),
    [
        ("from:", ("from",)),
        ("from:x", ("from", "x")),  # too short for a username
        ("before:2026-02-30", ("before", "2026", "02", "30")),
        ("has:files", ("has", "files")),
        ("is:", ("is",)),
        ("in:bad/name", ("in", "bad", "name")),
        ("column:value", ("column", "value")),
    ],
)
def test_an_operator_with_a_bad_value_is_words(q, tokens):
    parsed = parse(q)
    assert not parsed.operators
    assert parsed.terms == (Term(tokens),)


@pytest.mark.parametrize("q", ['"', '""', "-", "*", "-*", "🎉", "'; --", "   ", '"  "', "^", "()"])
def test_input_without_letters_or_digits_is_an_empty_query(q):
    assert parse(q).empty


def test_an_unbalanced_quote_is_a_space():
    assert parse('"quick brown').terms == (Term(("quick",)), Term(("brown",)))
    assert parse('quick"brown').terms == (Term(("quick",)), Term(("brown",)))


@given(st.text(max_size=256))
def test_any_text_parses_into_letters_and_digits_only(q):
    for term in parse(q).terms:
        assert term.tokens and all(token.isalnum() for token in term.tokens)


def test_the_highlight_marks_matches_and_escapes_everything_else():
    terms = parse("cafe naïve wor*").terms
    shown = highlight('<i>Café</i> & "NAIVE" world\'s', terms)
    marked = "<mark>Café</mark>&lt;/i&gt; &amp; &quot;<mark>NAIVE</mark>&quot; <mark>world</mark>&#x27;s"
    assert shown == "&lt;i&gt;" + marked
    assert highlight("nothing here", parse("-here").terms) == "nothing here"


def test_the_highlight_is_cut_around_the_first_match():
    body = "x" * 500 + " target " + "y" * 500
    shown = highlight(body, parse("target").terms)
    assert shown.startswith("…") and shown.endswith("…") and "<mark>target</mark>" in shown
    assert len(shown) - len("<mark></mark>") == 202
    assert highlight("z" * 300, ()) == "z" * 200 + "…"


def test_a_cursor_round_trips_and_a_forged_one_is_invalid():
    moment = datetime(2026, 11, 23, 8, 0, 0, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42)
    assert decode_cursor(encode_cursor(moment.replace(tzinfo=None), 7)) == (moment, 7)
    for forged in ("", "!!!", "bm9wZQ", encode_cursor(moment, 42)[:-3] + "x"):
        with pytest.raises(ChatError) as caught:
            decode_cursor(forged)
        assert caught.value.code == "invalid"
