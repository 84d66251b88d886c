"""Link previews (PROTOCOL.md section 13) as terminal lines. Pure functions.

A preview is drawn under its message as ``↳ preview: TITLE — SITE (URL)``,
then its description on one line of at most ``DESCRIPTION`` characters: a
terminal has no card to lay out, and a 500-character description would bury
the conversation. Titles, descriptions and site names come from pages the
sender linked to, so they are as untrusted as a body: whitespace (newlines
included) is collapsed and control characters are made visible. A message
without previews gets no line; the ``message:previews`` event, which says
something changed, gets ``* previews of message 12 in general:`` with the
lines, or ``... removed`` when the list is empty (the sender removed them).
"""

from __future__ import annotations

from typing import Any

from client_demo.controls import one_line, visible

ARROW = "\u21b3"
TITLE = 100  # characters of a title kept (the server allows 200)
DESCRIPTION = 100  # characters of a description kept (the server allows 500)


def preview_lines(previews: Any) -> list[str]:
    """Lines (unindented) for a message's ``previews``; none for a missing or empty list."""
    if not isinstance(previews, list):
        return []
    lines: list[str] = []
    for preview in previews:
        if isinstance(preview, dict) and isinstance(preview.get("url"), str):
            lines.extend(preview_line(preview))
    return lines


def preview_line(preview: dict[str, Any]) -> list[str]:
    """``↳ preview: TITLE — SITE (URL)`` and, if there is one, the description indented below it."""
    url = one_line(preview["url"])
    title = _text(preview.get("title"), TITLE) or url
    site = _text(preview.get("site_name"), TITLE)
    head = f"{ARROW} preview: {title}" + (f" \u2014 {site}" if site else "") + f" ({url})"
    description = _text(preview.get("description"), DESCRIPTION)
    return [head] + ([f"  {description}"] if description else [])


def previews_event_line(data: Any, indent: str) -> str | None:
    """The ``message:previews`` event: a head line and the preview lines (``indent`` before each)."""
    if not isinstance(data, dict) or not isinstance(data.get("previews"), list):
        return None
    head = f"* previews of message {_field(data, 'id')} in {_field(data, 'topic')}"
    lines = preview_lines(data["previews"])
    if not lines:
        return f"{head} removed"
    return "\n".join([f"{head}:"] + [f"{indent}{line}" for line in lines])


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one ``…`` when something was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _text(value: Any, limit: int) -> str:
    return visible(shorten(" ".join(value.split()), limit)) if isinstance(value, str) else ""


def _field(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "?" if value is None else one_line(str(value))
