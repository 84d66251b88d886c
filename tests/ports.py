"""Ports for the servers tests start as processes: chosen below the kernel's ephemeral range.

A test that starts a server process names its port before the process binds it. Probing with
``bind(("127.0.0.1", 0))`` and closing handed out an ephemeral port free for a moment only: a
test server of another worker, binding port 0 in-process (with ``SO_REUSEADDR``, as uvicorn's
sockets have it), could be given the same port in between, and the second listen failed with
"Address already in use" (CI: an in-process server of tests/edge/rest/test_conversations.py).
The ports here come from below the ephemeral range, which port 0 and outgoing connections
never use, at random, each checked free by a bind of its own.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOW = 20_000
EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _high() -> int:
    """The first port of the ephemeral range (Linux's default 32768 when it cannot be read)."""
    try:
        return int(EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing holds now, outside the ephemeral range."""
    high = _high()
    for _ in range(500):
        port = random.randrange(LOW, high)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {LOW}-{high}")
