"""What Python adds to each fan-out delivery: ``python -m bench.fanout_floor [--recipients N]``.

``bench.compare --scenarios fanout`` measures a delivery whole: Parley's loop over the recipients
(``LeanFanout._deliver``, ``DirectWebSocket.write``, the ``Coalescer``'s end of the turn) and the
``send`` system call each one makes, whose loopback TCP work (the receiver's too) the kernel charges
to the sender. This times the first part alone: the same code over ``N`` recipients whose transports
``write`` into a list (a C call that does nothing a kernel does), so what it prints is the floor of
Python per delivery that no change to the system calls can remove, to hold against the whole
delivery's CPU in the fan-out scenario (about 16 us on this 2-core host, 2026-11-29).

The recipients are stand-ins with exactly the attributes the loop reads of engine.io's socket and
uvicorn's protocol (listed in ``server/edge/engine/CONTRACT.md``); nothing else of a server runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from types import SimpleNamespace
from typing import Any

from bench.compare import out
from server.edge.engine.direct import Coalescer, DirectWebSocket
from server.edge.engine.fanout import Encoded, LeanFanout

FRAME = b"\x81\x64" + b"4" * 100  # a 100-byte text frame, as a message event's is


class _Socket:
    """engine.io's socket as the loop reads it: open, upgraded, nothing queued, never pinged late."""

    def __init__(self) -> None:
        self.closed = False
        self.last_ping: float | None = None
        self.queue = SimpleNamespace(idle_reader=True)
        self.upgrading = False
        self.upgraded = True


def recipients(count: int) -> tuple[LeanFanout, Coalescer, list[str], list[list[bytes]]]:
    """A fan-out over ``count`` WebSockets written directly; each one's writes land in its list."""
    coalescer = Coalescer()
    writable = asyncio.Event()
    writable.set()
    sockets: dict[str, _Socket] = {}
    websockets: dict[_Socket, DirectWebSocket] = {}
    sinks: list[list[bytes]] = []
    for i in range(count):
        sink: list[bytes] = []
        transport = SimpleNamespace(write=sink.append, is_closing=lambda: False)
        protocol: Any = SimpleNamespace(
            close_sent=False, disconnected=False, transport=transport, writable=writable
        )
        socket = _Socket()
        sockets[f"eio{i}"] = socket
        websockets[socket] = DirectWebSocket(protocol, None, coalescer)
        sinks.append(sink)
    fanout = LeanFanout.__new__(LeanFanout)  # no server: only what ``_deliver`` reads
    fanout.server = SimpleNamespace(eio=SimpleNamespace(sockets=sockets, ping_timeout=20))
    fanout.websockets = websockets
    fanout.written_directly = fanout.queued = 0
    return fanout, coalescer, list(sockets), sinks


def deliver_once(fanout: LeanFanout, coalescer: Coalescer, sids: list[str]) -> None:
    """One message to every recipient, and the end of its turn (the coalescer's flush); in a
    running loop, as a server's (the coalescer schedules its flush on it)."""
    fanout._deliver(Encoded([], FRAME), sids)
    coalescer.flush()


async def measure(count: int, rounds: int) -> list[float]:
    """Microseconds of Python per recipient, one figure per round of 50 messages."""
    fanout, coalescer, sids, sinks = recipients(count)
    per_recipient = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(50):
            deliver_once(fanout, coalescer, sids)
        per_recipient.append((time.process_time() - started) / 50 / count * 1e6)
        for sink in sinks:
            sink.clear()
    return per_recipient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    found = asyncio.run(measure(args.recipients, args.rounds))
    out(
        f"{args.recipients} recipients: {min(found):.3f} us of Python per delivery "
        f"(median {statistics.median(found):.3f}, {args.rounds} rounds of 50 messages)"
    )


if __name__ == "__main__":
    main()
