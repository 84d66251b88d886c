"""The one body rule (``check_body``, PROTOCOL.md section 3): at least one visible character, no bidi
override or isolate. Every path that stores a body validates it with this function; the transports'
tests (tests/edge/sio/test_bad_input.py, tests/edge/gateway/test_topics_dialect.py) check that they do."""

from __future__ import annotations

import pytest

from server.chat.kernel.schemas import check_body, check_emoji


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("\u3164", id="hangul-filler"),
        pytest.param("\u115f\u1160\uffa0", id="other-hangul-fillers"),
        pytest.param("\u2800\u2800", id="braille-blank"),
        pytest.param("\u0301\u0308", id="combining-marks"),
        pytest.param("\u20dd\u0488", id="enclosing-marks"),
        pytest.param("\ufe0f\U000e0100", id="variation-selectors"),
        pytest.param(" \u200b\u3164 \u2800\u0301 \n", id="all-of-them-with-whitespace"),
        pytest.param("\U000e0041\U000e007f", id="tag-characters"),
    ],
)
def test_a_body_of_characters_that_show_nothing_is_refused(body: str):
    with pytest.raises(ValueError, match="only whitespace or invisible"):
        check_body(body)


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_a_bidi_override_or_isolate_is_refused_anywhere(char: str):
    with pytest.raises(ValueError, match="bidirectional"):
        check_body(f"invoice{char}fdp.exe")


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_an_emoji_follows_the_body_rule_on_bidi_controls(char: str):
    """A reaction's or a status's emoji is shown beside names and text: the same reordering."""
    with pytest.raises(ValueError, match="bidirectional"):
        check_emoji(f"{char}\U0001f44d")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("e\u0301", id="letter-with-combining-accent"),
        pytest.param("\u3164x", id="filler-then-letter"),
        pytest.param("\u2800\u2801", id="braille-with-a-dot"),
        pytest.param("\u0645\u0631\u062d\u0628\u0627 \u200f!", id="arabic-with-rlm"),
        pytest.param("\u05e9\u05dc\u05d5\u05dd", id="hebrew"),
        pytest.param("\U0001f44d\U0001f3fd \u2764\ufe0f", id="emoji-with-modifiers"),
        pytest.param("\U0001f468\u200d\U0001f469\u200d\U0001f467", id="emoji-zwj-sequence"),
        pytest.param("\u00a0.\u00a0", id="a-dot"),
        pytest.param("\u0e01\u0e34", id="thai-with-vowel-mark"),
    ],
)
def test_real_text_is_accepted_as_is(body: str):
    assert check_body(body) == body
