"""Outgoing webhooks through the web page (PROTOCOL.md section 12): an owner registers one in the
topic settings, a message reaches a real receiver, and the delivery is listed with its status."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import expect

from db.models import WebhookDelivery
from tests.receiver import Receiver, receiving
from tests.support import LiveServer, count
from tests.support import test_settings as settings_for
from tests.web.conftest import NewPage

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", webhook_allow_hosts=["127.0.0.1"])


@pytest_asyncio.fixture(loop_scope="session")  # as the browser tests (tests/web/conftest.py)
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as found:
        yield found


async def test_an_owner_registers_a_webhook_and_sees_its_delivery(
    new_page: NewPage, receiver: Receiver, live_server: LiveServer
) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("builds")
    await alice.open_settings()
    section = alice.by("webhooks-section")
    await expect(section).to_be_visible()

    await alice.by("webhook-url").fill("http://10.0.0.1/hook")  # the SSRF guard refuses it
    await alice.by("webhook-secret").fill("page-secret")
    await alice.by("webhook-add").click()
    await expect(alice.by("webhook-error")).to_contain_text("not allowed")

    await alice.by("webhook-url").fill(receiver.url)
    await alice.by("webhook-event-mention").check()
    await alice.by("webhook-add").click()
    await expect(alice.by("webhook")).to_have_count(1)
    await expect(alice.by("webhook-item-url")).to_have_text(receiver.url)
    await expect(alice.by("webhook-error")).to_be_hidden()

    await alice.by("settings-close").click()
    await alice.send("deploy finished")
    received = await receiver.next()
    assert received.signed_with("page-secret") and received.data["message"]["body"] == "deploy finished"
    async with asyncio.timeout(10):  # the attempt is recorded once the receiver has answered
        while await count(live_server, WebhookDelivery) == 0:
            await asyncio.sleep(0.02)

    await alice.open_settings()
    await alice.by("webhook-show-deliveries").click()
    delivery = alice.by("webhook-delivery")
    await expect(delivery).to_have_count(1)
    await expect(delivery).to_have_attribute("data-status", "ok")
    await expect(delivery).to_contain_text("message #1: ok (200)")
    await alice.screenshot("webhooks")

    await alice.by("webhook-remove").click()
    await expect(alice.by("webhook")).to_have_count(0)
