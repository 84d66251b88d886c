"""How the demo draws a search hit (PROTOCOL.md section 9; pure functions: no server needed).

The highlight is HTML from the server: it is unescaped and its marks become colour (or
nothing), and anything that is not plain marked text is not trusted (the body is shown).
"""

from __future__ import annotations

from typing import Any

import pytest

from client_demo.errors import ClientError
from client_demo.searching import MARK_OFF, MARK_ON, Hit, as_page, highlight_text, hit_line, marked_parts
from tests.client_demo.test_render import message


def hit(highlight: str, **fields: Any) -> Hit:
    return Hit(message(**fields), highlight)


def test_marks_are_coloured_on_a_tty_and_dropped_otherwise() -> None:
    found = hit("we <mark>deploy</mark> on <mark>Friday</mark>", body="we deploy on Friday")
    assert highlight_text(found, color=False) == "we deploy on Friday"
    coloured = f"we {MARK_ON}deploy{MARK_OFF} on {MARK_ON}Friday{MARK_OFF}"
    assert highlight_text(found, color=True) == coloured


def test_entities_are_unescaped_and_control_characters_escaped() -> None:
    found = hit("a &lt;b&gt; &amp; &quot;<mark>deploy</mark>&quot; &#x27;x&#39; \x1b[2J")
    assert highlight_text(found, color=False) == "a <b> & \"deploy\" 'x' \\x1b[2J"
    # An escaped mark is text, not a mark.
    assert highlight_text(hit("&lt;mark&gt;no&lt;/mark&gt;"), color=True) == "<mark>no</mark>"


@pytest.mark.parametrize(
    "untrusted",
    [
        "<b>bold</b>",
        "<mark>open",
        "close</mark>",
        "<mark><mark>nested</mark></mark>",
        "<img src=x onerror=alert(1)>",
        "a < b",
        "AT&T",
        "&bogus_;",
        "<MARK>shout</MARK>",
    ],
)
def test_a_highlight_that_is_not_plain_marked_text_shows_the_body(untrusted: str) -> None:
    assert marked_parts(untrusted) is None
    assert highlight_text(hit(untrusted, body="the body"), color=True) == "the body"


def test_a_hit_line_says_when_where_who_and_the_id() -> None:
    line = hit_line(hit("<mark>yes</mark>, agreed"), color=False)
    assert line.startswith("2026-11-23 ")
    assert line.endswith("[den #3] alice: yes, agreed  (id 14)")
    direct = hit_line(hit("hi", topic="@bob", body="hi"), color=False)
    assert "[@bob #3] alice: hi  (id 14)" in direct


def test_a_page_is_checked() -> None:
    page = as_page({"hits": [{"message": message(), "highlight": "x"}], "next": "abc"})
    assert (len(page.hits), page.next) == (1, "abc")
    assert as_page({"hits": [], "next": None}).next is None
    with pytest.raises(ClientError) as caught:
        as_page({"results": []})
    assert caught.value.code == "bad_reply"
