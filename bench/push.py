"""Web Push throughput (PROTOCOL.md section 15): how many pushes per second the notifier and the
push outbox sustain against a local push service that decrypts every push and checks its VAPID
signature (``tests/push_service.py``, the tests' own), in-process, no sockets.

    .venv/bin/python -m bench.push                          # 2,000 users, SQLite in a temp dir
    .venv/bin/python -m bench.push --users 2000 --database postgresql+asyncpg://postgres@127.0.0.1:5432/NAME

Each of ``--users`` recipients has one subscription and gets one direct message from one sender
while the push delay is an hour (the jobs wait); then every job is made due at once and the clock
runs until the push service has accepted every push. Printed: the time until the notifier had
decided every job, and the pushes per second end to end (decided, encrypted, signed, POSTed,
decrypted by the service, recorded ``ok``). Then every push is made pending again and the clock
runs until all are accepted a second time: the outbox alone (claimed, encrypted, signed, POSTed,
recorded). The send path is not what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from bench.inproc import started_chat
from db.models import NotifyJob, PushOutbox
from db.notifications.push import SubscriptionRecord
from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import Target
from server.chat.notifications.subscriptions import endpoint_key
from server.chat.service import Chat
from tests.push_service import PushService, push_service

PASSWORD = "benchmark-password"


async def main(users: int, database: str | None) -> None:
    async with push_service() as service:
        settings = {"push_delay": 3600.0, "push_allow_hosts": ["127.0.0.1"], "default_topics": []}
        async with started_chat(database, serving=True, **settings) as chat:
            service.public_key = chat.push.key().public_key
            await fill(chat, service, users)
            await measure(chat, service, users)
            await outbox_alone(chat, service, users)


async def fill(chat: Chat, service: PushService, count: int) -> None:
    started = time.perf_counter()
    made = await chat.users.create("sender", PASSWORD)
    assert made.id is not None
    sender = Actor(id=made.id, username=made.username)
    now = datetime.now(UTC)
    for i in range(count):
        user = await chat.users.create(f"user{i:05d}", PASSWORD)
        assert user.id is not None
        browser = service.browser(f"user{i:05d}")
        keys = browser.subscription["keys"]
        record = SubscriptionRecord(f"{i:032x}", user.id, browser.endpoint, keys["p256dh"], keys["auth"], now)
        async with chat.db.write() as repos:
            await repos.push.subscribe(record, endpoint_key(browser.endpoint))
    window = asyncio.Semaphore(64)

    async def send(i: int) -> None:
        async with window:
            await chat.messages.send(sender, Target(user=f"user{i:05d}"), f"message {i} " + "x" * 100)

    await asyncio.gather(*(send(i) for i in range(count)))
    sys.stdout.write(
        f"filled {count} users, subscriptions and messages in {time.perf_counter() - started:.1f} s\n"
    )
    return sender


async def measure(chat: Chat, service: PushService, count: int) -> None:
    async with chat.db.write() as repos:
        await repos.session.execute(update(NotifyJob).values(due_at=datetime.now(UTC)))
    started = time.perf_counter()
    chat.notifier.bell.due(datetime.now(UTC))
    decided = None
    async with asyncio.timeout(600):
        while len(service.accepted) < count:
            await asyncio.sleep(0.05)
            if decided is None:
                async with chat.db.read() as repos:
                    left = (
                        await repos.session.execute(select(func.count()).select_from(NotifyJob))
                    ).scalar_one()
                if left == 0:
                    decided = time.perf_counter() - started
    elapsed = time.perf_counter() - started
    accepted = len(service.accepted)
    problems = [push.problem for push in service.received if push.problem]
    sys.stdout.write(
        f"notifier decided {count} jobs in {decided or elapsed:.2f} s\n"
        f"{accepted} pushes accepted in {elapsed:.2f} s: {accepted / elapsed:.0f} pushes/s"
        f" ({len(service.received)} requests, {len(problems)} refused by the push service)\n"
    )


async def outbox_alone(chat: Chat, service: PushService, count: int) -> None:
    before = len(service.accepted)
    async with asyncio.timeout(60):  # every outcome recorded first (the worker records in batches)
        while await pending(chat):
            await asyncio.sleep(0.05)
    async with chat.db.write() as repos:
        again = {"status": "pending", "next_at": datetime.now(UTC), "locked_until": None}
        await repos.session.execute(update(PushOutbox).values(**again))
    started = time.perf_counter()
    assert chat.push_worker is not None
    chat.push_worker.wake()
    async with asyncio.timeout(600):
        while len(service.accepted) < before + count:
            await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    sys.stdout.write(
        f"outbox alone: {count} pushes accepted in {elapsed:.2f} s: {count / elapsed:.0f} pushes/s\n"
    )


async def pending(chat: Chat) -> int:
    async with chat.db.read() as repos:
        query = select(func.count()).select_from(PushOutbox).where(PushOutbox.status != "ok")
        return int((await repos.session.execute(query)).scalar_one())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--database", default=None, help="a database URL (default: SQLite in a temp dir)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.users, arguments.database))
