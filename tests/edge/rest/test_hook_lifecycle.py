"""What goes with a webhook or an incoming hook (PROTOCOL.md section 12; issue 36 item 6): a
deleted topic takes its webhooks, hooks and their pending deliveries; a removed webhook's or
hook's bot leaves the topic, and is disabled when it was made for it (a bot the owner named
stays enabled). Through the real REST API and a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from db.models import Hook, Webhook, WebhookOutbox
from tests.bots_support import Api, bot_with_token, ok, refused, user_api
from tests.support import LiveServer, bearer
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases
DEAD_END = "http://127.0.0.1:9/never"  # nothing listens: deliveries stay pending, retried


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The webhook's URL is on 127.0.0.1 (let through); retries far apart: rows stay pending."""
    return settings_for(tmp_path / "data", webhook_allow_hosts=["127.0.0.1"], webhook_retry_base=4)


async def rows(live_server: LiveServer, table: Any, *where: Any) -> int:
    async with live_server.chat.db.read() as repos:
        query = select(func.count()).select_from(table).where(*where)
        return int((await repos.session.execute(query)).scalar_one())


async def members(api: Api, topic: str = "general") -> set[str]:
    return {m["username"] for m in ok(await api.get(f"/api/topics/{topic}/members"))["members"]}


async def general_with_webhook_and_hook(live_server: LiveServer) -> tuple[Api, str, str]:
    alice = await user_api(live_server, "alice")
    ok(await alice.post("/api/topics", {"name": "general"}), 201)
    webhook = ok(
        await alice.post(
            "/api/topics/general/webhooks", {"url": DEAD_END, "events": ["message"], "secret": "s"}
        ),
        201,
    )["id"]
    hook_url = ok(await alice.post("/api/topics/general/hooks", {}), 201)["url"]
    return alice, webhook, hook_url


async def test_deleting_a_topic_deletes_its_webhooks_hooks_and_their_pending_deliveries(
    live_server: LiveServer,
) -> None:
    alice, webhook, hook_url = await general_with_webhook_and_hook(live_server)
    ok(await live_server.http.post(hook_url, json={"text": "a message the webhook is told of"}))
    assert await rows(live_server, WebhookOutbox, col(WebhookOutbox.webhook_id) == webhook) >= 1

    await live_server.chat.topic_admin.delete("general")

    assert await rows(live_server, Webhook) == 0
    assert await rows(live_server, Hook) == 0
    assert await rows(live_server, WebhookOutbox) == 0
    refused(await live_server.http.post(hook_url, json={"text": "into a deleted topic"}), 404, "not_found")
    # the bots made for them are disabled: a topic of the same name later does not revive them
    bots = {b["username"]: b for b in ok(await alice.get("/api/bots"))["bots"]}
    assert "general-webhook" not in bots and "general-hook" not in bots
    ok(await alice.post("/api/topics", {"name": "general"}), 201)
    assert await members(alice) == {"alice"}


async def test_a_removed_webhooks_bot_leaves_the_topic_and_is_disabled(live_server: LiveServer) -> None:
    alice, webhook, _ = await general_with_webhook_and_hook(live_server)
    assert "general-webhook" in await members(alice)

    ok(await alice.delete(f"/api/topics/general/webhooks/{webhook}"))

    assert "general-webhook" not in await members(alice)
    assert "general-webhook" not in {b["username"] for b in ok(await alice.get("/api/bots"))["bots"]}


async def test_a_revoked_hooks_made_bot_leaves_and_is_disabled_and_its_tokens_stop(
    live_server: LiveServer,
) -> None:
    alice, _, _ = await general_with_webhook_and_hook(live_server)
    made = ok(await alice.get("/api/topics/general/hooks"))["hooks"][0]
    assert made["bot"] == "general-hook" and "general-hook" in await members(alice)
    _, token = ok(await alice.post("/api/bots/general-hook/tokens", {"label": "x"}), 201).values()
    assert (await live_server.http.get("/api/topics", headers=bearer(token))).status_code == 200

    ok(await alice.delete(f"/api/topics/general/hooks/{made['id']}"))

    assert "general-hook" not in await members(alice)
    assert "general-hook" not in {b["username"] for b in ok(await alice.get("/api/bots"))["bots"]}
    assert (await live_server.http.get("/api/topics", headers=bearer(token))).status_code == 401


async def test_a_revoked_hooks_named_bot_leaves_the_topic_but_stays_enabled(live_server: LiveServer) -> None:
    alice = await user_api(live_server, "alice")
    ok(await alice.post("/api/topics", {"name": "general"}), 201)
    ok(await alice.post("/api/topics", {"name": "ops"}), 201)
    _, token = await bot_with_token(alice, "deploys")
    ok(await alice.post("/api/topics/ops/hooks", {"bot": "deploys"}), 201)
    made = ok(await alice.post("/api/topics/general/hooks", {"bot": "deploys"}), 201)
    hook_id = made["id"]
    assert "deploys" in await members(alice)

    ok(await alice.delete(f"/api/topics/general/hooks/{hook_id}"))

    assert "deploys" not in await members(alice)
    assert "deploys" in await members(alice, "ops")  # its other hook's topic keeps it
    assert "deploys" in {b["username"] for b in ok(await alice.get("/api/bots"))["bots"]}
    assert (await live_server.http.get("/api/topics", headers=bearer(token))).status_code == 200
