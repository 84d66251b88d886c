"""The REPL's commands for replies, threads, reactions, pins and notifications.

PROTOCOL.md section 8, one command each (``HELP`` lists them). ``/reply`` and
``/thread`` post to the conversation where the message was shown in this
session, else to the current one (a message of another conversation is then
``not_found`` / ``invalid``, as the server says). ``/pins`` and ``/notify`` take
a direct conversation too (``{"with": user}``); ``/notify LEVEL`` reaches ``notify`` here
through ``notifications.NotifyCommands``, which owns the ``/notify`` word. ``/react`` and ``/pin`` print
their own ack; the ``reaction:updated`` or ``pins:updated`` echo of the same
change is not shown again (``LiveView``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from client_demo import render
from client_demo.connection import Connection
from client_demo.errors import UsageError
from client_demo.live import LiveView
from client_demo.models import address, as_message, as_topic, field_list
from client_demo.output import out

HELP = """\
  /reply ID TEXT              answer message ID, quoting it
  /thread ID TEXT             reply in the thread of message ID
  /threadlog ID [N]           the last N replies of that thread (default 20)
  /react ID EMOJI             add a reaction (/unreact ID EMOJI takes it back)
  /pin ID | /unpin ID         pin or unpin a message of its topic
  /pins [NAME|@USER]          the pinned messages (default: the current conversation)"""

LEVELS = ("all", "mentions", "none")
Handler = Callable[[str], Awaitable[None]]


class ConversationCommands:
    """Section 8's slash commands over the REPL's connection, view and current conversation."""

    def __init__(self, conn: Connection, view: LiveView, here: Callable[[], str]) -> None:
        self.conn = conn
        self.view = view
        self.here = here

    def table(self) -> dict[str, Handler]:
        """Command name -> handler, for the REPL's table."""
        return {
            "reply": self.reply,
            "thread": self.thread,
            "threadlog": self.threadlog,
            "react": self.react,
            "unreact": self.unreact,
            "pin": self.pin,
            "unpin": self.unpin,
            "pins": self.pins,
        }

    async def reply(self, rest: str) -> None:
        ident, body = _id_and_text(rest, "/reply ID TEXT")
        await self._send(ident, {"reply_to": ident, "body": body})

    async def thread(self, rest: str) -> None:
        ident, body = _id_and_text(rest, "/thread ID TEXT")
        await self._send(ident, {"thread": ident, "body": body})

    async def _send(self, ident: int, fields: dict[str, Any]) -> None:
        where = self.view.place(ident) or self.here()
        target = {"to": where[1:]} if where.startswith("@") else {"topic": where}
        payload = {**target, **fields, "client_id": uuid.uuid4().hex}
        self.view.show(as_message(await self.conn.call("message:send", payload)))

    async def threadlog(self, rest: str) -> None:
        words = rest.split()
        if len(words) not in (1, 2):
            raise UsageError("/threadlog ID [N]")
        root, limit = _int(words[0]), _int(words[1]) if len(words) == 2 else 20
        if not 1 <= limit <= 200:
            raise UsageError("/threadlog ID [N] with N from 1 to 200")
        page = await self.conn.call("thread:history", {"root": root, "limit": limit})
        replies = field_list(page, "messages")
        out(f"--- thread #{root}: {render.plural(len(replies), 'reply')} ---")
        self.view.show_list(replies)
        if isinstance(page, dict) and page.get("has_more"):
            out(f"--- older replies exist: /threadlog {root} {min(limit * 2, 200)} ---")

    async def react(self, rest: str) -> None:
        ident, emoji = _id_and_emoji(rest, "/react ID EMOJI")
        data = await self.conn.call("reaction:add", {"id": ident, "emoji": emoji})
        out(f"reacted {render.safe(emoji)} on message {ident}: {self._chips(data)}")

    async def unreact(self, rest: str) -> None:
        ident, emoji = _id_and_emoji(rest, "/unreact ID EMOJI")
        data = await self.conn.call("reaction:remove", {"id": ident, "emoji": emoji})
        out(f"removed {render.safe(emoji)} from message {ident}: {self._chips(data)}")

    def _chips(self, data: Any) -> str:
        self.view.remember_reactions(data)
        return render.reactions_text(data.get("reactions") if isinstance(data, dict) else None)

    async def pin(self, rest: str) -> None:
        await self._pin("message:pin", "pinned", rest)

    async def unpin(self, rest: str) -> None:
        await self._pin("message:unpin", "unpinned", rest)

    async def _pin(self, event: str, done: str, rest: str) -> None:
        ident = _int(rest)
        data = await self.conn.call(event, {"id": ident})
        self.view.remember_pins(data)
        count = render.plural(len(field_list(data, "pins")), "pin")
        out(f"{done} message {ident} in {render.safe(data.get('topic', '?'))} ({count})")

    async def pins(self, rest: str) -> None:
        words = rest.split()
        if len(words) > 1:
            raise UsageError("/pins [NAME]")
        where = words[0] if words else self.here()
        pinned = field_list(await self.conn.call("topic:pins", address(where)), "pins")
        out(f"--- pins of {render.safe(where)}: {render.plural(len(pinned), 'message')} ---")
        self.view.show_list(pinned)

    async def notify(self, rest: str) -> None:
        level = rest.strip().lower()
        if level not in LEVELS:
            raise UsageError("/notify all|mentions|none")
        payload = {**address(self.here()), "level": level}
        topic = as_topic(await self.conn.call("topic:notify", payload))
        out(f"notify {render.safe(topic['name'])}: {render.safe(topic.get('notify', level))}")


def _id_and_text(rest: str, usage: str) -> tuple[int, str]:
    ident, _, text = rest.strip().partition(" ")
    if not ident or not text.strip():
        raise UsageError(usage)
    return _int(ident), text.strip()


def _id_and_emoji(rest: str, usage: str) -> tuple[int, str]:
    words = rest.split()
    if len(words) != 2:
        raise UsageError(usage)
    return _int(words[0]), words[1]


def _int(text: str) -> int:
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        raise UsageError(f"expected a number, got {text!r}") from None
