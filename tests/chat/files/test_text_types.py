"""Telling the kind of a text file stays linear in its size, whatever the bytes (PROTOCOL.md
section 11): an upload is sniffed on the event loop, so a pattern that backtracks would let one
file of white space hold up the whole server."""

from __future__ import annotations

import time

import pytest

from server.chat.files import text_types

pytestmark = pytest.mark.timeout(30)
HEAD = 8192  # the sniffed prefix's size


@pytest.mark.parametrize(
    "prefix",
    [" ", "\n", "\t \r\n", "<!-- -->", "<?xml?>", "<!doctype x>", " <!---->"],
    ids=["spaces", "newlines", "mixed white space", "comments", "declarations", "doctypes", "both"],
)
def test_a_prefix_full_of_what_may_come_before_markup_is_told_at_once(prefix: str):
    text = (prefix * (HEAD // len(prefix)))[:HEAD] + "x"

    started = time.perf_counter()
    kind = text_types.kind(text, "notes.txt")

    assert kind == text_types.PLAIN
    assert time.perf_counter() - started < 0.5


def test_markup_after_a_long_prologue_is_still_found():
    prologue = " " * 4000 + "<?xml version='1.0'?>" + "<!-- c -->" * 100 + "\n"

    assert text_types.kind(prologue + "<svg xmlns='http://www.w3.org/2000/svg'/>", "a.txt") == text_types.SVG
    assert text_types.kind(" " * 4000 + "<!doctype html><p>hi", "a.txt") == text_types.HTML
