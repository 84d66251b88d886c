"""The one place that writes to the terminal.

Every line is flushed at once: stdout is often a pipe (``listen | jq``, the
tests), and a block-buffered line would arrive late or never.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO


def out(line: str) -> None:
    """Write one line to stdout."""
    _write(sys.stdout, line)


def err(line: str) -> None:
    """Write one line to stderr (errors, notices, prompts' companions)."""
    _write(sys.stderr, line)


def wants_color(choice: str) -> bool:
    """``--color``: ``always``, ``never``, or ``auto`` (stdout a terminal and ``NO_COLOR`` unset)."""
    if choice in ("always", "never"):
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def prompt(text: str) -> None:
    """Write a prompt to stderr without a newline."""
    sys.stderr.write(text)
    sys.stderr.flush()


def _write(stream: TextIO, line: str) -> None:
    stream.write(line + "\n")
    stream.flush()
