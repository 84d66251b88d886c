"""The REPL's commands for moderation, blocking and reports (PROTOCOL.md section 10).

The topic commands act on the current topic (a direct conversation has no roles
or moderation: a usage message says so); ``/block``, ``/unblock``, ``/blocks`` and
``/report`` need no current conversation. Each prints the line of its
``moderation.Request``; what the others see is the system message the server
stores in the topic (``LiveView`` shows it like any message). After ``/rename``
the current conversation is the new name (as after an operator's rename).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from client_demo import moderation, render
from client_demo.connection import Connection
from client_demo.errors import UsageError
from client_demo.models import Topic, as_topic
from client_demo.moderation import Request
from client_demo.output import out

HELP = """\
  /kick USER [REASON]         remove USER from the current topic (they may come back)
  /ban USER [MIN] [REASON]    remove USER, keep them out (MIN minutes, else until /unban)
  /unban USER                 let USER in again
  /bans                       who is banned from the current topic, by whom, until when
  /mute USER [MIN]            USER reads but may not post (MIN minutes, else until /unmute)
  /unmute USER                USER may post again
  /role USER ROLE             set USER's role here: admin, moderator or member
  /archive | /unarchive       make the current topic read-only for everyone, or not
  /rename NEWNAME             rename the current topic
  /describe TEXT              set the current topic's description
  /block USER                 fold USER's messages, refuse their direct messages
  /unblock USER | /blocks     undo /block | the users you block
  /report ID REASON           report message ID to the operator"""

Handler = Callable[[str], Awaitable[None]]
# Called with (old name, new name) when the current topic was renamed by us.
Renamed = Callable[[str, str], None]


class ModerationCommands:
    """Section 10's slash commands over the REPL's connection and current conversation."""

    def __init__(self, conn: Connection, here: Callable[[], str], renamed: Renamed) -> None:
        self.conn = conn
        self.here = here
        self.renamed = renamed

    def table(self) -> dict[str, Handler]:
        """Command name -> handler, for the REPL's table."""
        return {
            "kick": self.kick,
            "ban": self.ban,
            "unban": self.unban,
            "bans": self.bans,
            "mute": self.mute,
            "unmute": self.unmute,
            "role": self.role,
            "archive": self.archive,
            "unarchive": self.unarchive,
            "rename": self.rename,
            "describe": self.describe,
            "block": self.block,
            "unblock": self.unblock,
            "blocks": self.blocks,
            "report": self.report,
        }

    async def kick(self, rest: str) -> None:
        user, reason = _user_and_text(rest, "/kick USER [REASON]")
        await self._do(moderation.kick(self._topic("/kick"), user, reason or None))

    async def ban(self, rest: str) -> None:
        user, more = _user_and_text(rest, "/ban USER [MINUTES] [REASON]")
        first, _, after = more.partition(" ")
        minutes, reason = (int(first), after.strip()) if first.isdigit() else (None, more)
        await self._do(moderation.ban(self._topic("/ban"), user, minutes, reason or None))

    async def unban(self, rest: str) -> None:
        await self._do(moderation.unban(self._topic("/unban"), _one(rest, "/unban USER")))

    async def bans(self, rest: str) -> None:
        _nothing(rest, "/bans")
        topic = self._topic("/bans")
        data = await self.conn.call("topic:bans", {"topic": topic})
        bans = data.get("bans") if isinstance(data, dict) else None
        if not isinstance(bans, list) or not bans:
            out(f"nobody is banned from {render.safe(topic)}")
            return
        for ban in bans:
            out(render.ban_line(ban))

    async def mute(self, rest: str) -> None:
        words = rest.split()
        if len(words) not in (1, 2) or (len(words) == 2 and not words[1].isdigit()):
            raise UsageError("/mute USER [MINUTES]")
        minutes = int(words[1]) if len(words) == 2 else None
        await self._do(moderation.mute(self._topic("/mute"), words[0], minutes))

    async def unmute(self, rest: str) -> None:
        await self._do(moderation.unmute(self._topic("/unmute"), _one(rest, "/unmute USER")))

    async def role(self, rest: str) -> None:
        words = rest.split()
        if len(words) != 2 or words[1].lower() not in moderation.ROLES:
            raise UsageError("/role USER admin|moderator|member")
        await self._do(moderation.role(self._topic("/role"), words[0], words[1].lower()))

    async def archive(self, rest: str) -> None:
        _nothing(rest, "/archive")
        await self._topic_request(moderation.archive(self._topic("/archive")))

    async def unarchive(self, rest: str) -> None:
        _nothing(rest, "/unarchive")
        await self._topic_request(moderation.archive(self._topic("/unarchive"), archived=False))

    async def rename(self, rest: str) -> None:
        old = self._topic("/rename")
        topic = await self._topic_request(moderation.rename(old, _one(rest, "/rename NEWNAME")))
        self.renamed(old, topic["name"])

    async def describe(self, rest: str) -> None:
        if not rest.strip():
            raise UsageError("/describe TEXT")
        await self._topic_request(moderation.describe(self._topic("/describe"), rest.strip()))

    async def block(self, rest: str) -> None:
        await self._do(moderation.block(_one(rest, "/block USER").removeprefix("@")))

    async def unblock(self, rest: str) -> None:
        user = _one(rest, "/unblock USER").removeprefix("@")
        await self._do(moderation.block(user, blocked=False))

    async def blocks(self, rest: str) -> None:
        _nothing(rest, "/blocks")
        users = moderation.blocked_users(await self.conn.call("user:blocks"))
        out(f"you block: {', '.join(render.safe(u) for u in users)}" if users else "you block nobody")

    async def report(self, rest: str) -> None:
        ident, _, reason = rest.strip().partition(" ")
        if not ident.isdigit() or not reason.strip():
            raise UsageError("/report ID REASON")
        await self._do(moderation.report(int(ident), reason.strip()))

    async def _do(self, request: Request) -> None:
        await self.conn.call(request.event, request.payload)
        out(request.done)

    async def _topic_request(self, request: Request) -> Topic:
        topic = as_topic(await self.conn.call(request.event, request.payload))
        out(moderation.topic_done(request, topic))
        return topic

    def _topic(self, command: str) -> str:
        where = self.here()
        if where.startswith("@"):
            raise UsageError(f"{command} needs a topic; a direct conversation has no moderation")
        return where


def _user_and_text(rest: str, usage: str) -> tuple[str, str]:
    user, _, text = rest.strip().partition(" ")
    if not user:
        raise UsageError(usage)
    return user, text.strip()


def _one(rest: str, usage: str) -> str:
    words = rest.split()
    if len(words) != 1:
        raise UsageError(usage)
    return words[0]


def _nothing(rest: str, usage: str) -> None:
    if rest.strip():
        raise UsageError(usage)
