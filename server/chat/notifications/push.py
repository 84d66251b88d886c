"""The Web Push channel (PROTOCOL.md section 15): what the notifier's candidates get as pushes.

For each recipient whose preferences have push on, who is not held back (do-not-disturb, quiet
hours: ``rules.held_back``) and has no ``online`` socket (section 14: a socket that is connected,
not idle and whose availability is ``auto``; an away socket gets the push), one ``push_outbox``
row per subscription, in the notifier's transaction. The pair (subscription, message) is unique,
so at most one push per message leaves for a subscription however many nodes decided it. The
payload is the JSON the service worker shows (encrypted at each attempt by the sender):
``{"type": "message", "topic", "id", "seq", "sender", "title", "body", "url"}`` with ``topic``
as the recipient sees it (``@sender`` for a direct message), ``body`` the first ``EXCERPT``
characters (``""`` with ``PARLEY_PUSH_CONTENT=off``) and ``url`` the page at that message.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

import orjson

from db.notifications.push import PushRow
from db.repositories import Repositories
from server.chat.notifications.notifier import Notifying, Recipient
from server.chat.notifications.rules import held_back

EXCERPT = 120  # characters of the body a push shows


def payload(message: Notifying, content: bool, public_url: str | None) -> str:
    """The push's JSON, as every recipient of ``message`` sees it."""
    direct = message.kind == "direct"
    topic = f"@{message.sender}" if direct else message.topic_name
    name = message.sender_display_name or message.sender
    url = f"{public_url or ''}/#topic={quote(topic, safe='')}&message={message.id}"
    shown = {
        "type": "message",
        "topic": topic,
        "id": message.id,
        "seq": message.seq,
        "sender": message.sender,
        "title": name if direct else f"{name} in #{topic}",
        "body": message.body[:EXCERPT] if content else "",
        "url": url,
    }
    return orjson.dumps(shown).decode()


def pushed_to(recipient: Recipient, now: datetime) -> bool:
    """Whether ``recipient`` gets a push now (their subscriptions aside)."""
    if not recipient.prefs.push or recipient.online:
        return False
    return not held_back(recipient.availability, recipient.prefs, recipient.timezone, now)


class PushChannel:
    """A ``notifier.Channel``: pushes as outbox rows."""

    def __init__(self, content: bool, public_url: str | None) -> None:
        self.content = content  # PARLEY_PUSH_CONTENT: off, pushes carry no text
        self.public_url = public_url

    async def notify(
        self, repos: Repositories, message: Notifying, recipients: Sequence[Recipient], now: datetime
    ) -> None:
        wanted = [r.user_id for r in recipients if pushed_to(r, now)]
        if not wanted:
            return
        subscriptions = await repos.push.subscriptions_of(wanted)
        if not subscriptions:
            return
        body = payload(message, self.content, self.public_url)
        rows = [
            PushRow(uuid.uuid4().hex, subscription.id, user_id, message.id, body, now)
            for user_id in wanted
            for subscription in subscriptions.get(user_id, ())
        ]
        await repos.push.enqueue(rows)
