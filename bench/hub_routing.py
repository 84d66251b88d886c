"""Hub routing by simulation (issue 58, item 2): K nodes each holding sockets in 1/K of the topics.

``python -m bench.hub_routing [--ks 2,4,6] [--rate 50] [--seconds 10] [--before 4d6ebcb]``

For each K and each code (BEFORE: the hub of ``--before``, exported with ``git archive``; AFTER:
this tree), K reader processes run the real ``RedisHub`` in a minimal process with a counting
sink (no database, no sockets): reader i holds the topics ``t % K == i`` (the AFTER hub is told
so through ``want``, as the edge's registry tells it for its sockets). One generator process,
a hub node of the same code, publishes a fixed load per node, ``K x rate`` messages a second,
each a ``MessageCreated`` to one of ``TOPICS`` topics at random, as users of every node post in
every topic. Each reader reports, over the same window: hub messages received a second (every
message its listener read, heartbeats included), the messages it delivered (those of its own
topics, what its sockets would get), and its process CPU per delivered message. The readers do
nothing else, so their CPU is the hub's. The generator's CPU per publish is the send path's
share of the hub (``--ks 1``: one node, every topic its own, the hot path of one node with
Redis). The noise is the machine's busy cores not spent by the bench's own readers over the
window.

Both codes run in the same invocation, K by K (before then after), against the same Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

TOPICS = 60  # divisible by 2, 4 and 6: each reader holds the same share
REPO = Path(__file__).resolve().parent.parent


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _created(topic: int, seq: int) -> Any:
    from server.chat.kernel import events as ev
    from server.chat.kernel.schemas import MessageOut

    message = MessageOut(
        id=topic * 10_000_000 + seq,
        topic=f"topic-{topic}",
        kind="public",
        seq=seq,
        sender="alice",
        body="a message of about the length people type in a chat, give or take some words",
        created_at="2026-11-28T10:00:00Z",
        edited_at=None,
        client_id=None,
    )
    return ev.MessageCreated(message, ev.ToTopic(topic), topic)


async def _reader(url: str, channel: str, k: int, index: int) -> None:
    """A node: its hub, a sink that counts the messages of its topics; stdin says go and stop."""
    from server.adapters.cluster.redis_hub import RedisHub
    from server.chat.kernel import events as ev

    mine = [topic for topic in range(TOPICS) if topic % k == index]
    hub = RedisHub(url, channel)
    counts = {"received": 0, "delivered": 0}
    original = hub._received

    async def received(*args: Any) -> None:
        counts["received"] += 1
        await original(*args)

    hub._received = received  # type: ignore[method-assign]

    class Sink:
        async def deliver(self, event: Any) -> None:
            if isinstance(event, ev.MessageCreated) and event.topic_id % k == index:
                counts["delivered"] += 1

    hub.attach(Sink())
    await hub.start()
    if hasattr(hub, "want"):
        hub.want(topics=mine)
        await hub.ready()
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()
    loop.add_reader(sys.stdin.fileno(), lambda: lines.put_nowait(sys.stdin.readline().strip()))
    out("ready")
    await _line(lines, "go")
    start = dict(counts), _cpu(), time.monotonic()
    await _line(lines, "stop")
    counted, cpu, at = start
    seconds = time.monotonic() - at
    result = {
        "index": index,
        "seconds": seconds,
        "received": counts["received"] - counted["received"],
        "delivered": counts["delivered"] - counted["delivered"],
        "cpu": _cpu() - cpu,
    }
    out(json.dumps(result))
    loop.remove_reader(sys.stdin.fileno())
    await hub.stop()


async def _line(lines: asyncio.Queue[str], word: str) -> None:
    while await lines.get() != word:
        pass


async def _generator(url: str, channel: str, rate: float, seconds: float) -> None:
    """Publish ``rate`` messages a second for ``seconds``, spread over every topic."""
    from server.adapters.cluster import redis_hub
    from server.adapters.cluster.redis_hub import RedisHub

    redis_hub.PUBLISH_TIMEOUT = 30.0  # a loaded machine's slow publish must not drop the load
    hub = RedisHub(url, channel)
    await hub.start()
    seqs = [0] * TOPICS
    sent = 0
    workers = 8
    out("sending")
    began = time.monotonic()

    async def worker(offset: int) -> None:
        nonlocal sent
        due = began + offset / rate
        while due - began < seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            topic = random.randrange(TOPICS)
            seqs[topic] += 1
            await hub.publish(_created(topic, seqs[topic]))
            sent += 1
            due += workers / rate

    cpu = _cpu()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    out(json.dumps({"sent": sent, "seconds": time.monotonic() - began, "cpu": _cpu() - cpu}))
    await hub.stop()


def _spawn(source: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(source),
    )


def _busy() -> float:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle - sum(fields[7:])) / os.sysconf("SC_CLK_TCK")


def run_one(source: Path, url: str, k: int, rate: float, seconds: float) -> dict[str, Any]:
    """K readers and one generator of the code in ``source``: each reader's numbers."""
    channel = f"bench-routing-{uuid.uuid4().hex[:8]}"
    readers = [_spawn(source, "reader", url, channel, str(k), str(i)) for i in range(k)]
    generator = None
    try:
        for reader in readers:
            assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
        generator = _spawn(source, "generator", url, channel, str(rate * k), str(seconds + 2.0))
        assert generator.stdout is not None and generator.stdout.readline().strip() == "sending"
        time.sleep(1.0)  # past every topic's first sight
        busy = _busy()
        for reader in readers:
            assert reader.stdin is not None
            reader.stdin.write("go\n")
            reader.stdin.flush()
        time.sleep(seconds)
        for reader in readers:
            assert reader.stdin is not None
            reader.stdin.write("stop\n")
            reader.stdin.flush()
        busy = _busy() - busy
        results = []
        for reader in readers:
            assert reader.stdout is not None
            results.append(json.loads(reader.stdout.readline()))
        sent = json.loads(generator.stdout.readline())
        ours = sum(r["cpu"] for r in results)
        return {
            "k": k,
            "readers": results,
            "generated_per_s": sent["sent"] / sent["seconds"],
            "publish_cpu_us": 1e6 * sent["cpu"] / max(1, sent["sent"]),
            "noise_cores": max(0.0, (busy - ours) / seconds),
        }
    finally:
        for proc in [*readers, *([generator] if generator else [])]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _row(code: str, run: dict[str, Any]) -> str:
    readers = run["readers"]
    received = [r["received"] / r["seconds"] for r in readers]
    delivered = [r["delivered"] / r["seconds"] for r in readers]
    per_message = [1e6 * r["cpu"] / max(1, r["delivered"]) for r in readers]
    cpu_share = [100 * r["cpu"] / r["seconds"] for r in readers]
    return (
        f"| {code} | {run['k']} | {run['generated_per_s']:.0f} | {statistics.median(received):.0f} "
        f"({min(received):.0f}-{max(received):.0f}) | {statistics.median(delivered):.0f} | "
        f"{statistics.median(per_message):.0f} ({min(per_message):.0f}-{max(per_message):.0f}) | "
        f"{statistics.median(cpu_share):.1f} | {run['publish_cpu_us']:.0f} | {run['noise_cores']:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", default="2,4,6")
    parser.add_argument("--rate", type=float, default=50.0, help="messages a second per node")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--before", default="4d6ebcb")
    parser.add_argument("--redis", default=os.environ.get("PARLEY_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--out", default=None, help="append the table to this markdown file")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from bench.procs import snapshot

    before = snapshot(args.before, REPO)
    rows = []
    runs = []
    for k in [int(k) for k in args.ks.split(",")]:
        for code, source in ((f"before ({args.before})", before), ("after", REPO)):
            run = run_one(source, args.redis, k, args.rate, args.seconds)
            run["code"] = code
            runs.append(run)
            rows.append(_row(code, run))
            out(rows[-1])
    header = (
        "| code | K | generated msg/s | hub messages received/s per node, median (min-max) | "
        "delivered msg/s per node | hub CPU us per delivered message, median (min-max) | "
        "hub CPU % of a core per node | generator CPU us per publish | noise: other cores |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    table = "\n".join([header, *rows])
    out(table)
    if args.out:
        with open(args.out, "a") as f:
            f.write(table + "\n\n")
    out(json.dumps(runs))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "reader":
        url, channel, k, index = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        asyncio.run(_reader(url, channel, k, index))
    elif len(sys.argv) > 1 and sys.argv[1] == "generator":
        asyncio.run(_generator(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])))
    else:
        main()
