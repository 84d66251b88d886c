"""Top functions of a py-spy ``--format raw`` profile: ``python -m bench.hotspots FILE[.gz] [--top N]``.

py-spy's raw format is one collapsed stack per line (``root;...;leaf COUNT``),
idle threads left out, so each count is a sample of a thread doing work.
Printed as markdown: self time per function (the leaf frame), inclusive time
per function (anywhere on the stack, counted once per sample), and self time
per library (by the leaf frame's file).

Recorded with ``--threads`` (``--py-spy-threads`` in bench.load) each stack's
root names its thread; ``--thread MainThread`` keeps only the event loop's
samples. py-spy counts a thread waiting for the GIL as active, so samples of
aiosqlite's worker threads overstate their CPU (compare with /proc, which
bench.load reports as ``server_other_threads_cores``).
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
LIBRARIES = (
    ("server/", "parley server/"),
    ("db/", "parley db/"),
    ("sqlalchemy/", "sqlalchemy"),
    ("aiosqlite/", "aiosqlite"),
    ("sqlite3/", "sqlite3 (stdlib)"),
    ("socketio/", "python-socketio"),
    ("engineio/", "python-engineio"),
    ("websockets/", "websockets"),
    ("uvicorn/", "uvicorn"),
    ("starlette/", "starlette"),
    ("fastapi/", "fastapi"),
    ("pydantic", "pydantic"),
    ("sqlmodel/", "sqlmodel"),
    ("asyncio/", "asyncio (stdlib)"),
    ("logging/", "logging (stdlib)"),
    ("prometheus_client/", "prometheus_client"),
    ("jwt/", "pyjwt"),
    ("bcrypt", "bcrypt"),
    ("threading.py", "threading (stdlib)"),
    ("concurrent/", "concurrent (stdlib)"),
)


THREAD = re.compile(r"^thread \(\d+\): (?P<name>.*)$")


# What a sample was doing: the first rule (in this order) with a frame on the stack wins.
ACTIVITIES = (
    ("OutgoingGuard.sweep", "outgoing-queue sweep"),
    ("Hub.publish", "fan-out: Hub.publish -> sio.emit (a task per recipient)"),
    ("_send_eio_packet", "fan-out: per-recipient send tasks"),
    ("MessageService", "message:send minus fan-out (validate, SQL, commit)"),
    ("DeliveryService.acknowledge", "delivered acks (a read transaction each)"),
    ("DeliveryService.backlog", "backlog on connect (cursor flush + queries)"),
    ("DeliveryService", "delivered cursor flush"),
    ("ChatNamespace.connect", "connect handler (token, memberships, rooms, presence)"),
    ("ChatNamespace._welcome", "welcome: session + backlog emits"),
    ("_websocket_handler.<locals>.writer", "engine.io writer task (one frame per send)"),
    ("AsyncSocket.poll", "engine.io writer task (one frame per send)"),
    ("KillSwitch.send", "engine.io writer task (one frame per send)"),
    ("WebSocket.send", "engine.io writer task (one frame per send)"),
    ("AsyncSocket.send", "fan-out: per-recipient send tasks"),
    ("Envelope.run", "event envelope, other"),
    ("_websocket_handler", "engine.io websocket reader"),
    ("AsyncServer._handle_eio_message", "socket.io packet decode/dispatch"),
    ("WebSocketsSansIOProtocol", "uvicorn websocket protocol"),
    ("_connection_worker_thread", "aiosqlite worker thread"),
    ("greenlet_spawn", "sqlalchemy (other)"),
)


def activity(frames: list[tuple[str, str]]) -> str:
    names = [f[0] for f in frames]
    for needle, title in ACTIVITIES:
        if any(needle in name for name in names):
            return title
    if names and names[-1] == "Runner.run":
        return "no Python frame under the loop (uvloop C code, syscalls)"
    if names and names[0] in ("wait_for", "Queue.get"):
        return "asyncio wait_for/Queue.get, caller not on the stack (mostly the writer's poll)"
    if any("sqlalchemy/" in f[1] or "aiosqlite/" in f[1] for f in frames):
        # SQLAlchemy runs its sync core in a greenlet: py-spy shows that stack without its caller.
        return "sqlalchemy/aiosqlite, caller not on the stack (greenlet)"
    return "other"


def parse(path: Path) -> list[tuple[str, list[tuple[str, str]], int]]:
    """(thread name or "", frames root first, samples) per line."""
    stacks = []
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    for line in raw.decode(errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        stack_text, _, count_text = line.rpartition(" ")
        try:
            count = int(count_text)
        except ValueError:
            continue
        parts = stack_text.split(";")
        thread = ""
        named = THREAD.match(parts[0]) if parts else None
        if named:
            thread = re.sub(r"-\d+", "-N", named["name"])  # Thread-12 (...) -> Thread-N (...)
            parts = parts[1:]
        frames = []
        for raw in parts:
            match = FRAME.match(raw)
            frames.append((match["func"], match["file"]) if match else (raw, ""))
        stacks.append((thread, frames, count))
    return stacks


def label(frame: tuple[str, str]) -> str:
    func, file = frame
    return f"{func} ({file})" if file else func


def library(file: str) -> str:
    for needle, name in LIBRARIES:
        if needle in file:
            return name
    return file.split("/")[0] if "/" in file else (file or "?")


def analyse(path: Path, top: int, thread: str | None = None) -> str:
    stacks = parse(path)
    threads: Counter[str] = Counter()
    for name, _, count in stacks:
        threads[name or "?"] += count
    all_samples = sum(threads.values())
    if thread:
        stacks = [s for s in stacks if thread in s[0]]
    total = sum(count for _, _, count in stacks)
    if not total:
        return "no samples\n"
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    libs: Counter[str] = Counter()
    doing: Counter[str] = Counter()
    for _, frames, count in stacks:
        if not frames:
            continue
        doing[activity(frames)] += count
        own[label(frames[-1])] += count
        libs[library(frames[-1][1])] += count
        for name in {label(f) for f in frames}:
            inclusive[name] += count

    def table(title: str, counter: Counter[str], n: int) -> list[str]:
        rows = [f"#### {title}", "", "| % of samples | samples | what |", "|---:|---:|---|"]
        for name, count in counter.most_common(n):
            rows.append(f"| {100 * count / total:.1f} | {count} | `{name}` |")
        return [*rows, ""]

    lines = [f"{path.name}: {all_samples} samples", ""]
    if len(threads) > 1:
        lines += ["| samples | % | thread |", "|---:|---:|---|"]
        lines += [f"| {c} | {100 * c / all_samples:.1f} | {n} |" for n, c in threads.most_common()]
        lines.append("")
    scope = f"thread {thread!r}" if thread else "all threads"
    lines += [f"Percentages below: of the {total} samples of {scope}.", ""]
    lines += table("What the samples were doing (first matching frame)", doing, len(ACTIVITIES) + 2)
    lines += table("Self time by library (leaf frame's file)", libs, top)
    lines += table("Self time by function (leaf frame)", own, top)
    lines += table("Inclusive time by function (on the stack)", inclusive, top * 2)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots", description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--thread", help="only stacks whose thread name contains this, e.g. MainThread")
    args = parser.parse_args(argv)
    sys.stdout.write(analyse(args.profile, args.top, args.thread))
    return 0


if __name__ == "__main__":
    sys.exit(main())
