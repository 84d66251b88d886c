"""The interactive client's webhook commands (PROTOCOL.md section 12) against a live server and a
real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.models import WebhookDelivery
from tests.client_demo.conftest import Spawn
from tests.receiver import Receiver, receiving
from tests.support import PASSWORD, LiveServer, count
from tests.support import test_settings as settings_for


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", webhook_allow_hosts=["127.0.0.1"])


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as found:
        yield found


async def test_an_owner_adds_lists_reads_the_deliveries_of_and_removes_a_webhook(
    live_server: LiveServer, spawn: Spawn, receiver: Receiver
) -> None:
    alice = await spawn("--user", "alice", "--password-stdin", "--register")
    await alice.write(PASSWORD)
    await alice.expect("type /help")
    await alice.write("/create builds")
    await alice.expect("created builds")

    await alice.write(f"/webhook add builds {receiver.url} message,member s3cret")
    hook_id = (await alice.expect("added to builds")).split()[1]
    await alice.write("/webhooks builds")
    assert (await alice.expect(hook_id)).startswith(f"{hook_id} {receiver.url} [message,member] since 20")

    await alice.write("/join builds")
    await alice.write("green build")
    received = await receiver.next()
    assert received.signed_with("s3cret") and received.data["message"]["body"] == "green build"
    delivery = received.headers["X-Parley-Delivery"]
    async with asyncio.timeout(10):  # the attempt is recorded once the receiver has answered
        while await count(live_server, WebhookDelivery) == 0:
            await asyncio.sleep(0.02)
    await alice.write(f"/deliveries builds {hook_id}")
    assert (await alice.expect(delivery)).endswith(f"{delivery} message attempt 1: ok 200")

    await alice.write("/webhook add builds http://10.0.0.1/x message s")
    assert "not allowed" in await alice.expect("error: invalid", stream="err")
    await alice.write("/webhook remove builds " + hook_id)
    await alice.expect(f"webhook {hook_id} removed")
    await alice.write("/webhooks builds")
    await alice.expect("no webhooks in builds")
    await alice.write("/webhook add builds")
    await alice.expect("usage: /webhook add TOPIC URL EVENTS SECRET", stream="err")
    await alice.write("/quit")
    assert await alice.wait() == 0, alice.transcript()
