"""Mentions of the user in a body, marked for a colour terminal. Pure functions.

The server finds the mentions (PROTOCOL.md section 8) and lists them in
``mentions`` / ``mentions_all``; this module only finds where they are in the
text, with the server's rule: a ``@`` at the start or after a character that
is not a name character, then a name (``A-Z a-z 0-9 _ . -``), matched
case-insensitively, a trailing ``.`` or ``-`` dropped when the name without it
is the one meant (``hi @bob.`` mentions bob). ``@all`` counts when the server
says ``mentions_all``.
"""

from __future__ import annotations

import re

MENTION = re.compile(r"(?<![A-Za-z0-9_.-])@([A-Za-z0-9_.-]+)")
HIGHLIGHT = "\x1b[1;33m"  # bold yellow
RESET = "\x1b[0m"


def highlight(text: str, me: str, *, everyone: bool) -> str:
    """``text`` with each ``@me`` (and ``@all`` when ``everyone``) wrapped in ANSI bold colour.

    ``text`` is already safe for the terminal (control characters escaped):
    the codes added here are the only escape sequences in the result.
    """
    wanted = {me.casefold(), *(["all"] if everyone else [])}

    def mark(match: re.Match[str]) -> str:
        name = _meant(match[1], wanted)
        if name is None:
            return match[0]
        rest = match[1][len(name) :]
        return f"{HIGHLIGHT}@{name}{RESET}{rest}"

    return MENTION.sub(mark, text)


def _meant(name: str, wanted: set[str]) -> str | None:
    """The part of ``name`` that is one of ``wanted``, dropping trailing ``.``/``-``; else None."""
    while name:
        if name.casefold() in wanted:
            return name
        if name[-1] not in ".-":
            return None
        name = name[:-1]
    return None


def bold(text: str) -> str:
    """``text`` in ANSI bold."""
    return f"\x1b[1m{text}{RESET}"
