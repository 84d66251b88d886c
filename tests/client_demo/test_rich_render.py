"""How the demo draws rich messages (PROTOCOL.md section 13): Markdown, control characters, previews.

Pure functions and the live view's handler, no server: the server of this branch does not
send ``message:previews`` yet, so its live handling is driven here with the event's payload
shape; the end-to-end test (test_interactive.py) covers what the server already answers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from client_demo import markup, previews, render
from client_demo.connection import Connection
from client_demo.live import LiveView
from client_demo.mentions import HIGHLIGHT
from tests.client_demo.test_render import message

COLOR = render.Look(me="bob", color=True)
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the only escape sequences the client itself writes
BOLD, NOT_BOLD = markup.BOLD
PREVIEW = {
    "url": "https://example.org/post",
    "title": "A post",
    "description": "What the post says.",
    "site_name": "Example",
    "image": {"url": "/api/previews/7/image", "width": 640, "height": 320},
}


def colored(body: str, **fields: Any) -> str:
    return render.message_line(message(body=body, **fields), COLOR)


def without_styles(line: str) -> str:
    return SGR.sub("", line)


def test_bold_italics_code_and_strike_become_terminal_styles() -> None:
    line = colored("**loud** _soft_ `x = 1` ~~gone~~")
    assert f"{BOLD}loud{NOT_BOLD}" in line
    assert "\x1b[3msoft\x1b[23m" in line
    assert "\x1b[7mx = 1\x1b[27m" in line
    assert "\x1b[9mgone\x1b[29m" in line
    assert without_styles(line).endswith("alice: loud soft x = 1 gone  (id 14)")


def test_without_colour_a_body_is_printed_as_written() -> None:
    body = "**loud** _soft_ `code` [docs](https://x.org)"
    line = render.message_line(message(body=body))
    assert "\x1b" not in line
    assert line.endswith(f"alice: {body}  (id 14)")


def test_links_show_their_url_unless_the_text_is_the_url() -> None:
    line = without_styles(colored("see [the docs](https://x.org/a) or <https://y.org> or https://z.org"))
    assert "see the docs (https://x.org/a) or https://y.org or https://z.org  (id" in line
    assert "\x1b[4mthe docs\x1b[24m" in colored("[the docs](https://x.org/a)")
    assert without_styles(colored("![a cat](https://x.org/cat.png)")).endswith(
        "alice: a cat (https://x.org/cat.png)  (id 14)"
    )


def test_raw_html_is_text() -> None:
    assert "alice: <b>hi</b> <script>x</script>  (id 14)" in colored("<b>hi</b> <script>x</script>")


def test_a_code_block_is_dim_on_indented_lines() -> None:
    first, second, third = colored("look:\n```python\nx = 1\nprint(x)\n```").split("\n")
    assert without_styles(first).endswith("alice: look:")
    assert second == "    \x1b[2mx = 1\x1b[22m"
    assert third == "    \x1b[2mprint(x)\x1b[22m  (id 14)"


def test_lines_lists_and_quotes_keep_their_shape() -> None:
    lines = markup.styled("first\nsecond\n\n- a\n- b\n\n3. c\n\n> quoted")
    assert lines == ["first", "second", "\u2022 a", "\u2022 b", "3. c", "\u2502 quoted"]


def test_mentions_of_me_still_stand_out_inside_styles() -> None:
    line = colored("**hey @bob**", mentions=["bob"])
    assert f"{HIGHLIGHT}@bob" in line and BOLD in line
    assert HIGHLIGHT not in colored("`@bob`", mentions=["bob"])  # code is not a mention


@pytest.mark.parametrize("color", [True, False])
def test_a_body_cannot_send_control_sequences(color: bool) -> None:
    hostile = "\x1b[2J\x1b]8;;https://evil\x07**x**\x9b31m\u202e`\x1b[5m`\n```\n\x1b[31m\n```"
    line = render.message_line(message(body=hostile, previews=[{**PREVIEW, "title": "\x1b[2Jt"}]))
    if color:
        line = colored(hostile, previews=[{**PREVIEW, "title": "\x1b[2Jt"}])
    left = without_styles(line) if color else line
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", left.replace("\n", ""))
    assert "\\x1b[2J" in left and "\\x9b31m" in left and "\\u202e" in left and "\\x07" in left


def test_a_preview_is_a_line_under_its_message_with_a_short_description() -> None:
    long = {**PREVIEW, "description": "word " * 60 + "\nmore", "site_name": None}
    line = render.message_line(message(body="https://example.org/post", previews=[PREVIEW, long]))
    lines = line.split("\n")
    assert lines[1:3] == [
        "    \u21b3 preview: A post \u2014 Example (https://example.org/post)",
        "      What the post says.",
    ]
    assert lines[3] == "    \u21b3 preview: A post (https://example.org/post)"
    assert len(lines[4]) == 6 + previews.DESCRIPTION and lines[4].endswith("\u2026")
    assert "\n" not in render.message_line(message(previews=[]))


def test_the_previews_event_says_what_changed() -> None:
    event = {"topic": "den", "id": 14, "previews": [PREVIEW]}
    assert render.previews_line(event) == (
        "* previews of message 14 in den:\n"
        "    \u21b3 preview: A post \u2014 Example (https://example.org/post)\n"
        "      What the post says."
    )
    assert render.previews_line({**event, "previews": []}) == "* previews of message 14 in den removed"
    assert render.change_line("message:previews", {**event, "previews": []}) == render.previews_line(
        {**event, "previews": []}
    )
    assert render.previews_line({"topic": "den", "id": 14}) is None


class Events:
    """A stand-in connection that keeps the live view's handlers, to call them as the server would."""

    session = None

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[Any], Awaitable[None]]] = {}

    def on_message(self, _handler: object) -> None:
        pass

    def on_notice(self, _handler: object) -> None:
        pass

    def on_event(self, event: str, handler: Callable[[Any], Awaitable[None]]) -> None:
        self.handlers[event] = handler


async def test_the_live_view_shows_message_previews(capsys: pytest.CaptureFixture[str]) -> None:
    events = Events()
    view = LiveView(cast(Connection, events))
    view.install()
    previews_changed = events.handlers["message:previews"]

    await previews_changed({"topic": "den", "id": 14, "previews": [PREVIEW]})
    await previews_changed({"topic": "den", "id": 14, "previews": []})
    view.remember_unpreview(15)
    await previews_changed({"topic": "den", "id": 15, "previews": []})  # the echo of our /unpreview
    await previews_changed({"topic": "den", "id": 15, "previews": []})  # a later one is shown
    view.remember_unpreview(16)
    view.forget_unpreview(16)  # the server refused our /unpreview: no echo to hide
    await previews_changed({"topic": "den", "id": 16, "previews": []})
    await previews_changed("garbage")

    assert capsys.readouterr().out.splitlines() == [
        "* previews of message 14 in den:",
        "    \u21b3 preview: A post \u2014 Example (https://example.org/post)",
        "      What the post says.",
        "* previews of message 14 in den removed",
        "* previews of message 15 in den removed",
        "* previews of message 16 in den removed",
    ]
