"""The server under test as a child process, and what /proc says about a process.

``ServerProcess`` starts ``parley serve`` on a free 127.0.0.1 port with a
temporary data directory, waits (bounded) for ``/healthz`` and stops exactly
that PID (SIGTERM, then SIGKILL after a grace period). Its log goes to a file
in the data directory; ``errors()`` counts the error lines for the report.
"""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# High limits so that the benchmark measures the server, not its rate limiter.
BENCH_ENV = {
    "PARLEY_LOG_LEVEL": "WARNING",
    "PARLEY_SOCKET_BURST": "100000",
    "PARLEY_SOCKET_RATE": "100000",
    "PARLEY_REGISTER_PER_HOUR": "100000",
    "PARLEY_LOGIN_PER_HOUR": "100000",
    # Every generated client connects from 127.0.0.1 (the default bound is 256 per address).
    "PARLEY_MAX_CONNECTIONS_PER_ADDRESS": "1000000",
}
FAST_BCRYPT = {"PARLEY_BCRYPT_ROUNDS": "4"}


@dataclass
class ProcSample:
    """CPU seconds (user+system, all threads) and resident memory of one process."""

    cpu_s: float
    rss_kb: int
    threads: int
    main_thread_cpu_s: float = 0.0
    system_cpu_s: float = 0.0  # the kernel's part of cpu_s (socket syscalls, loopback TCP)


def sample(pid: int) -> ProcSample:
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2 :].split()
    # fields[0] is field 3 (state): utime=14, stime=15, num_threads=20 (1-based, man 5 proc)
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    threads = int(fields[17])
    try:
        main = _stat_cpu(f"/proc/{pid}/task/{pid}/stat")
    except OSError:
        main = 0.0
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
                break
    return ProcSample(cpu, rss, threads, main, int(fields[12]) / CLOCK_TICKS)


def _stat_cpu(path: str) -> float:
    with open(path) as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds per thread (task id); the main thread's id is the PID."""
    result = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            result[int(task)] = _stat_cpu(f"/proc/{pid}/task/{task}/stat")
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return result


def machine_busy() -> float:
    """CPU seconds all cores of the machine spent busy since boot (/proc/stat, idle and iowait excluded)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    steal_guest = sum(fields[7:])  # steal, guest, guest_nice: not time this machine's tasks ran
    return (sum(fields) - idle - steal_guest) / CLOCK_TICKS


def calibrate() -> float:
    """Milliseconds of a fixed pure-Python workload: tells a slower (shared, throttled) machine apart."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i % 7
        data = {"k": [str(i) for i in range(2000)]}
        for _ in range(20):
            sorted(data["k"])
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def self_cpu() -> float:
    """CPU seconds of this (load generator) process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ROOT = Path(__file__).resolve().parent.parent  # this checkout: what the installed ``parley`` runs
_COMPILED: set[Path] = set()


def ensure_bytecode(root: Path) -> None:
    """Parley's modules under ``root`` compiled to bytecode, once per bench process, as ``make run``
    and an installed package have them. Where ``PYTHONDONTWRITEBYTECODE`` is set (this machine), a
    server run from a ``git archive`` of a revision (``--parley-rev``), or from a checkout whose
    modules were never compiled, compiles every module it imports again at each start: 2.05 s from
    exec to ``/healthz`` against 1.68 s for the same code (``bench.startup --before HEAD``,
    2026-11-30), which the start-up and storm figures then measured instead of a start.
    ``compileall`` writes the files whatever that variable says. In this process (no pool of forked
    workers: a test calls this from a process with threads), about half a second for a tree with
    no bytecode, a look at each file's time for one compiled already."""
    if root in _COMPILED:
        return
    for package in ("server", "db"):
        if not compileall.compile_dir(root / package, quiet=1):
            raise RuntimeError(f"{root / package} does not compile")
    _COMPILED.add(root)


def parley_command(source: Path | None = None) -> list[str]:
    """The command that runs ``parley`` from ``source`` (or this checkout), its bytecode compiled."""
    ensure_bytecode(source or ROOT)
    script = Path(sys.executable).parent / "parley"
    if script.exists() and source is None:
        return [str(script)]
    return [sys.executable, "-c", "import sys; from server.cli import main; sys.exit(main())"]


def snapshot(rev: str, repo: Path) -> Path:
    """The tree of git revision ``rev`` exported to a temporary directory (``git archive``, read-only)."""
    target = Path(tempfile.mkdtemp(prefix=f"parley-src-{rev.replace('/', '_')}-"))
    archive = subprocess.run(["git", "archive", rev], cwd=repo, capture_output=True, check=True, timeout=60)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True, timeout=60)
    return target


class ServerProcess:
    def __init__(
        self,
        extra_env: dict[str, str] | None = None,
        label: str = "server",
        source: Path | None = None,
        command_prefix: list[str] | None = None,
    ) -> None:
        """``source``: run the server package from this directory instead of the installed checkout.

        ``command_prefix``: e.g. ``["taskset", "-c", "1"]`` (it must exec the server, keeping the PID).
        """
        self.extra_env = extra_env or {}
        self.label = label
        self.source = source
        self.command_prefix = command_prefix or []
        self.preexec_fn: Callable[[], None] | None = None  # e.g. raising RLIMIT_NOFILE
        self.port = 0
        self.pid = 0
        self.data_dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir / "server.log"

    async def start(self, timeout: float = 30.0, data_dir: Path | None = None, port: int = 0) -> None:
        """``data_dir`` and ``port``: start on an existing data directory and a given port (a restart, or a
        copy of a prepared database); by default a new temporary directory and a free port."""
        self.port = port or free_port()
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="parley-bench-"))
        env = dict(os.environ)
        env.update(BENCH_ENV)
        env.update(self.extra_env)
        env["PARLEY_DATA_DIR"] = str(self.data_dir)
        if self.source is not None:
            # Ahead of the editable install's finder, which sits at the end of sys.meta_path.
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.source), env.get("PYTHONPATH")) if p)
        self._log = open(self.log_path, "ab")  # closed in stop(); a restart appends
        self.proc = subprocess.Popen(
            [
                *self.command_prefix,
                *parley_command(self.source),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=self.data_dir,  # no stray .env from the caller's directory
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=self.preexec_fn,
        )
        self.pid = self.proc.pid
        try:
            await self._wait_healthy(timeout)
        except BaseException:
            await self.stop()
            raise

    async def _wait_healthy(self, timeout: float) -> None:
        def exited() -> str | None:
            assert self.proc is not None
            if self.proc.poll() is None:
                return None
            return f"{self.label} exited with {self.proc.returncode}:\n{self.log_tail()}"

        await wait_healthy(self.url, timeout, exited, lambda: self.log_tail())

    def sample(self) -> ProcSample:
        return sample(self.pid)

    def errors(self) -> list[str]:
        """Error-looking lines of the server log (the log level is WARNING)."""
        if self.data_dir is None or not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if "ERROR" in line or "CRITICAL" in line]

    def first_error(self, context: int = 25) -> str:
        """The first error line of the log and what follows it (its traceback)."""
        if self.data_dir is None or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if "ERROR" in line or "CRITICAL" in line:
                return "\n".join(lines[i : i + context])
        return ""

    def copy_log(self, destination: Path) -> None:
        if self.data_dir is not None and self.log_path.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.log_path, destination)

    def log_tail(self, n: int = 30) -> str:
        if self.data_dir is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def kill(self) -> None:
        """SIGKILL this PID and reap it (a crash: no shutdown work at all); the data directory stays."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        if self._log is not None:
            self._log.close()
            self._log = None

    async def stop(self, grace: float = 10.0, keep_dir: bool = False) -> None:
        """SIGTERM this PID, SIGKILL it after ``grace`` seconds; remove the data directory."""
        if self.proc is not None:
            await terminate(self.proc, grace)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.data_dir is not None and not keep_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


async def terminate(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM a process we started, SIGKILL it after ``grace`` seconds; reap it."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def host_facts() -> dict[str, Any]:
    """CPU count and model, memory, Python and platform of this machine."""
    facts: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                facts["mem_total_mb"] = int(line.split()[1]) // 1024
                break
    return facts


async def wait_healthy(
    url: str,
    timeout: float,
    exited: Callable[[], str | None] = lambda: None,
    log_tail: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``url``/healthz until 200; fail early when ``exited`` says the server is gone."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if (why := exited()) is not None:
                raise RuntimeError(why)
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                async with http.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=2)) as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.1)
    tail = log_tail()
    raise TimeoutError(f"{url} not healthy after {timeout}s" + (f":\n{tail}" if tail else ""))
