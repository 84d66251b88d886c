"""The REPL's commands for bots and incoming webhooks (PROTOCOL.md section 12), over REST with the
session's own token: ``/bot create NAME``, ``/bot token NAME [LABEL]`` (the token is printed this
once) and ``/hook [TOPIC]`` (a hook of TOPIC, default the current topic; its full URL is printed
this once, ready for ``curl``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from client_demo import api
from client_demo.connection import Connection
from client_demo.errors import UsageError
from client_demo.output import out

HELP = """\
  /bot create NAME            create a bot you own
  /bot token NAME [LABEL]     make an API token for your bot (shown once)
  /hook [TOPIC]               create an incoming webhook of a topic (its URL is shown once)"""

Handler = Callable[[str], Awaitable[None]]


class BotCommands:
    def __init__(self, conn: Connection, here: Callable[[], str]) -> None:
        self.conn = conn
        self.here = here

    def table(self) -> dict[str, Handler]:
        return {"bot": self.bot, "hook": self.hook}

    async def bot(self, rest: str) -> None:
        action, _, args = rest.partition(" ")
        name, _, label = args.strip().partition(" ")
        if action == "create" and name and not label:
            made = await api.create_bot(self.conn.url, self.conn.token, name)
            out(f"created bot {made['username']} (owner {made['owner']})")
        elif action == "token" and name:
            made = await api.bot_token(self.conn.url, self.conn.token, name, label.strip())
            out(f"token for {name} (shown once): {made['token']}  (id {made['id']})")
        else:
            raise UsageError("usage: /bot create NAME | /bot token NAME [LABEL]")

    async def hook(self, rest: str) -> None:
        topic = rest.strip() or self.here()
        if topic.startswith("@") or " " in topic:
            raise UsageError("usage: /hook [TOPIC] (a topic, not a direct conversation)")
        made = await api.create_hook(self.conn.url, self.conn.token, topic)
        out(f"hook {made['id']} of {topic} (URL shown once): {self.conn.url.rstrip('/')}{made['url']}")
