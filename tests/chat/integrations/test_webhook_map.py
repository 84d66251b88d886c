"""Each node's map of the topics' outgoing webhooks (server.chat.integrations.webhooks.WebhookMap,
PROTOCOL.md section 12): kept exact by ``WebhooksChanged``, read whole at the start and after
missed news. A webhook removed while that whole read runs must not come back from it: the map
would go on posting the topic's messages to an address its managers took away."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from db.records import WebhookRecord
from server.chat.kernel.actors import Actor
from server.chat.kernel.events import NewsMissed, WebhooksChanged
from tests.holds import held_statements
from tests.support import PASSWORD, WAIT

ACTIVE = "SELECT webhooks."  # the map's reads (the whole one is the first held)
NOW = datetime.now(UTC)


async def test_a_webhook_removed_while_news_missed_reads_the_map_again_stays_removed(chat):
    olive = await chat.users.create("olive", PASSWORD)
    owner = Actor(olive.id, olive.username)
    await chat.topics.create(owner, "news")
    async with chat.db.write() as repos:
        topic = await repos.topics.by_name("news")
        assert topic is not None
        hook = WebhookRecord(
            uuid.uuid4().hex, topic.id, "https://example.com/in", ("message",), "s", None, olive.id, NOW
        )
        await repos.webhooks.add(hook)
        repos.record(WebhooksChanged(topic.id))
    assert [found.id for found in chat.webhook_map.of(topic.id)] == [hook.id]

    async with held_statements(chat.db, ACTIVE) as held:
        missed = asyncio.ensure_future(chat.hub.tell_here(NewsMissed()))
        await held.wait()  # the whole read has begun: the webhook is active in it
        await chat.webhooks.remove(owner, "news", hook.id)
        assert chat.webhook_map.of(topic.id) == ()
        await held.release()
        await asyncio.wait_for(missed, WAIT)

    assert chat.webhook_map.of(topic.id) == ()
