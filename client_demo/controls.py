"""Control characters made visible, so text from others cannot drive the terminal.

A body, a preview's title or a topic name may carry ESC (``\\x1b[2J`` clears the
screen, OSC 8 forges a link), other C0/C1 controls or Unicode format
characters (a right-to-left override reorders what follows). Each is shown as
its ``\\x1b``-style escape instead; a tab is kept. ``render`` and ``markup`` pass
every piece of foreign text through here before adding styles of their own,
so the only escape sequences in a printed line are the client's.
"""

from __future__ import annotations


def visible(text: str) -> str:
    """``text`` with every non-printable character but the tab as an escape (newlines too)."""
    return "".join(_printable(ch) for ch in text)


def one_line(text: str) -> str:
    """``text`` on one line: runs of whitespace (newlines included) as one space, then ``visible``."""
    return visible(" ".join(text.split()))


def _printable(ch: str) -> str:
    if ch.isprintable() or ch == "\t":
        return ch
    return ch.encode("unicode_escape").decode("ascii")
