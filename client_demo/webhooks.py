"""The REPL's outgoing webhooks commands (PROTOCOL.md section 12; REST only, for a topic's owner
and admins): ``/webhook add TOPIC URL EVENTS SECRET`` (EVENTS: a comma list of message, mention,
reaction, member), ``/webhook remove TOPIC ID``, ``/webhooks TOPIC`` and ``/deliveries TOPIC ID``.
Each prints what the server answered, one line per item."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from client_demo import api, render
from client_demo.connection import Connection
from client_demo.errors import UsageError
from client_demo.output import out

HELP = """\
  /webhook add TOPIC URL EVENTS SECRET   POST each event (EVENTS: message,mention,reaction,member)
  /webhook remove TOPIC ID               stop a webhook of TOPIC
  /webhooks TOPIC | /deliveries TOPIC ID the webhooks of TOPIC | one's newest deliveries"""

Handler = Callable[[str], Awaitable[None]]


class WebhookCommands:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def table(self) -> dict[str, Handler]:
        return {"webhook": self.webhook, "webhooks": self.webhooks, "deliveries": self.deliveries}

    async def webhook(self, rest: str) -> None:
        words = rest.split()
        if len(words) == 5 and words[0] == "add":
            _, topic, url, events, secret = words
            body = {"url": url, "events": [e for e in events.split(",") if e], "secret": secret}
            created = await self._call("POST", _hooks(topic), body)
            out(f"webhook {created['id']} added to {topic}")
        elif len(words) == 3 and words[0] == "remove":
            await self._call("DELETE", f"{_hooks(words[1])}/{words[2]}")
            out(f"webhook {words[2]} removed")
        else:
            raise UsageError("/webhook add TOPIC URL EVENTS SECRET | /webhook remove TOPIC ID")

    async def webhooks(self, rest: str) -> None:
        words = rest.split()
        if len(words) != 1:
            raise UsageError("/webhooks TOPIC")
        hooks = (await self._call("GET", _hooks(words[0])))["webhooks"]
        for hook in hooks:
            events = ",".join(hook["events"])
            out(f"{hook['id']} {render.safe(hook['url'])} [{events}] since {hook['created_at']}")
        if not hooks:
            out(f"no webhooks in {words[0]}")

    async def deliveries(self, rest: str) -> None:
        words = rest.split()
        if len(words) != 2:
            raise UsageError("/deliveries TOPIC ID")
        found = (await self._call("GET", f"{_hooks(words[0])}/{words[1]}/deliveries"))["deliveries"]
        for d in found:
            code = "" if d["code"] is None else f" {d['code']}"
            out(f"{d['at']} {d['id']} {d['event']} attempt {d['attempt']}: {d['status']}{code}")
        if not found:
            out("no deliveries yet")

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        return await api.call(self.conn.url, method, path, self.conn.token, body)


def _hooks(topic: str) -> str:
    return f"/api/topics/{quote(topic, safe='')}/webhooks"
