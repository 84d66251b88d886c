"""A restart's start-up: ``python -m bench.startup [--rounds N] [--before REV]``.

How long a killed server takes from its exec to answering ``/healthz``, and the CPU it spent on the
way (``/proc``: the wall time on a shared machine is other processes' too, the CPU much less so).
No clients: the storm itself is ``bench.storm``. Each round starts the working tree and, with
``--before``, that git revision (``git archive``), alternately, each on its own data directory
made and migrated by a first start that is not counted (a restart finds its schema current), then
kills it with SIGKILL. The server runs on core 1 as in the other benches. Output: medians and
ranges per version, and the other processes' load (``os.getloadavg``) before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.compare import SERVER_CORE, out, pinned
from bench.procs import FAST_BCRYPT, ServerProcess, sample, snapshot


async def one_start(server: ServerProcess) -> tuple[float, float]:
    """Start ``server`` on its data directory and port; (s to /healthz, its CPU s by then); kill it."""
    started = time.perf_counter()
    await server.start(300, data_dir=server.data_dir, port=server.port)
    wall = time.perf_counter() - started
    cpu = sample(server.pid).cpu_s
    server.kill()
    return wall, cpu


async def run(args: argparse.Namespace, sources: dict[str, Path | None]) -> dict[str, Any]:
    servers = {
        name: ServerProcess(dict(FAST_BCRYPT), name, source, pinned(SERVER_CORE))
        for name, source in sources.items()
    }
    found: dict[str, dict[str, list[float]]] = {name: {"wall_s": [], "cpu_s": []} for name in servers}
    load = [os.getloadavg()[0]]
    try:
        for server in servers.values():  # the first start migrates: not counted
            await server.start(300)
            server.kill()
        for _ in range(args.rounds):
            for name, server in servers.items():
                wall, cpu = await one_start(server)
                found[name]["wall_s"].append(round(wall, 3))
                found[name]["cpu_s"].append(round(cpu, 3))
    finally:
        for server in servers.values():
            await server.stop()
    load.append(os.getloadavg()[0])
    return {"rounds": args.rounds, "load_1min_before_after": load, "versions": found}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.startup", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--before", help="also start this git revision, alternately with the working tree")
    args = p.parse_args(argv)
    sources: dict[str, Path | None] = {"working tree": None}
    exported = None
    if args.before:
        exported = snapshot(args.before, Path(__file__).resolve().parent.parent)
        sources = {f"git {args.before}": exported, "working tree": None}
    try:
        results = asyncio.run(run(args, sources))
    finally:
        if exported is not None:
            shutil.rmtree(exported, ignore_errors=True)
    out(f"rounds {results['rounds']}, load (1 min) before/after {results['load_1min_before_after']}")
    out("| version | s exec to /healthz, median (min-max) | CPU s by then, median (min-max) |")
    out("|---|---|---|")
    for name, r in results["versions"].items():
        cells = [
            f"{statistics.median(r[k]):.2f} ({min(r[k]):.2f}-{max(r[k]):.2f})" for k in ("wall_s", "cpu_s")
        ]
        out(f"| {name} | {cells[0]} | {cells[1]} |")
    out(json.dumps(results["versions"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
