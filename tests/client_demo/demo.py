"""Run ``python -m client_demo`` as a subprocess, the way a user runs it.

``run_demo`` runs a one-shot command to completion. ``Demo`` keeps a process
open, writes stdin lines and awaits output lines with a timeout: tests
synchronise on what the client prints, never on sleeps.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAIT = 15.0  # per awaited line; a cold interpreter start with imports included


# The demo keeps a signed-in session under the config folder (client_demo/session_store.py): the
# tests' demos keep theirs here, never in the user's home (a test of sessions names its own file).
CONFIG_HOME = tempfile.mkdtemp(prefix="parley-demo-config-")


def demo_env(**extra: str) -> dict[str, str]:
    """The parent's environment without PARLEY_* leaking in, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env["XDG_CONFIG_HOME"] = CONFIG_HOME
    env.update(extra)
    return env


@dataclass
class Completed:
    code: int
    out: list[str]
    err: list[str]


async def spawn_demo(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """Start ``python -m client_demo ARGS`` in the repository with piped stdin, stdout and stderr."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "client_demo",
        *args,
        cwd=ROOT,
        env=env or demo_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_demo(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> Completed:
    """Run one command to completion; its exit code and output lines."""
    proc = await spawn_demo(*args, env=env)
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), WAIT * 2)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return Completed(proc.returncode, out.decode().splitlines(), err.decode().splitlines())


class Demo:
    """A running client: write lines to it, await lines from it."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out: list[str] = []
        self.err: list[str] = []
        self._queues: dict[str, asyncio.Queue[str | None]] = {
            "out": asyncio.Queue(),
            "err": asyncio.Queue(),
        }
        assert proc.stdout is not None and proc.stderr is not None
        self._readers = [
            asyncio.create_task(self._pump(proc.stdout, "out", self.out)),
            asyncio.create_task(self._pump(proc.stderr, "err", self.err)),
        ]

    @classmethod
    async def start(cls, *args: str, env: dict[str, str] | None = None) -> Demo:
        return cls(await spawn_demo(*args, env=env))

    async def _pump(self, stream: asyncio.StreamReader, name: str, seen: list[str]) -> None:
        while line := await stream.readline():
            text = line.decode().rstrip("\n")
            seen.append(text)
            await self._queues[name].put(text)
        await self._queues[name].put(None)

    async def write(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        await self.proc.stdin.wait_closed()

    async def expect(self, needle: str, stream: str = "out", timeout: float = WAIT) -> str:
        """The next line of ``stream`` that contains ``needle`` (earlier lines are skipped)."""
        queue = self._queues[stream]

        async def find() -> str:
            while (line := await queue.get()) is not None:
                if needle in line:
                    return line
            await queue.put(None)  # keep the end visible to later calls
            raise AssertionError(f"{stream} ended without {needle!r}\n{self.transcript()}")

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {needle!r} on {stream} in {timeout}s\n{self.transcript()}") from None

    async def expect_all(self, *needles: str, stream: str = "out") -> list[str]:
        """A line for each of ``needles``, in any order (for events whose order is not promised).

        Returns the lines in the order of ``needles``; other lines read meanwhile are skipped.
        """
        found: dict[str, str] = {}
        while len(found) < len(needles):
            line = await self.expect("", stream)
            for needle in needles:
                if needle not in found and needle in line:
                    found[needle] = line
                    break
        return [found[needle] for needle in needles]

    async def wait(self, timeout: float = WAIT) -> int:
        """The exit code, once the process ended and its output is read."""
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.gather(*self._readers)
        return code

    async def stop(self) -> None:
        """Kill the process if it still runs; always reap it and its pipes."""
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        await asyncio.gather(*self._readers)
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()

    def transcript(self) -> str:
        return "--- stdout:\n" + "\n".join(self.out) + "\n--- stderr:\n" + "\n".join(self.err)
