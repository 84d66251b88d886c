"""The one place that writes to the terminal.

Every line is flushed at once: stdout is often a pipe (``listen | jq``, the
tests), and a block-buffered line would arrive late or never.
"""

from __future__ import annotations

import sys
from typing import TextIO


def out(line: str) -> None:
    """Write one line to stdout."""
    _write(sys.stdout, line)


def err(line: str) -> None:
    """Write one line to stderr (errors, notices, prompts' companions)."""
    _write(sys.stderr, line)


def prompt(text: str) -> None:
    """Write a prompt to stderr without a newline."""
    sys.stderr.write(text)
    sys.stderr.flush()


def _write(stream: TextIO, line: str) -> None:
    stream.write(line + "\n")
    stream.flush()
