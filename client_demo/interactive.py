"""The interactive chat: slash commands and plain text read from stdin.

One command runs at a time, in the order typed; live events (messages, edits,
typing, presence, invitations, read marks, topics renamed or deleted by an
operator, reactions, thread and pin changes, link previews, our removal from a topic) are
shown as they arrive, between commands. Replies, threads, reactions, pins and
notification levels have their commands in ``conversations``; moderation,
blocking and reports in ``moderation_repl``; search (``/search``,
``/more``) in ``searching``; profiles, status, availability and the
directory (``/profile``, ``/status``, ``/away``, ``/dnd``, ``/auto``,
``/who``) in ``people``; notification settings (``/notify``) in
``notifications``; deleting one's account (``/delete-account``) in ``account``. Errors are shown in
words (``error: forbidden: ...``) and the session goes on. ``/quit`` or the
end of stdin ends it, so a script can drive it through a pipe.

The current conversation is a topic name, or ``@user`` for a direct one;
plain text goes there. If an operator (or ``/rename``) renames it, it is the
new name; if an operator deletes it or a moderator removes us from it, there
is none (as after ``/leave``). A line starting
with ``//`` sends the text after the first slash, for messages that start
with a slash.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from client_demo import (
    account,
    bots_repl,
    calls,
    conversations,
    emoji,
    exporting,
    files,
    live,
    moderation_repl,
    notifications,
    people,
    render,
    searching,
    webhooks,
)
from client_demo.connection import Connection
from client_demo.errors import EXIT_ERROR, EXIT_OK, ClientError, UsageError
from client_demo.models import address, as_message, as_topic, field_list
from client_demo.output import err, out
from client_demo.stdin import StdinLines

MEMBERS_FOUND = 50  # members ``/members NAME`` lists at most

HELP = f"""\
commands:
  /topics                     list topics and conversations
  /create NAME [--private]    create a topic (you own it)
  /join NAME | /join @USER    subscribe, show recent history, talk there
  /leave [NAME]               unsubscribe (default: the current topic)
  /invite [NAME] USER         add USER to a topic (default: the current one)
  /msg USER TEXT              send a direct message
  /history [N]                the last N messages here (default 20)
  /members [NAME]             members of the current topic and their roles (those named NAME...)
  /edit ID TEXT | /delete ID  change or remove one of your messages
  /unpreview ID               remove the link previews of one of your messages
  /read                       mark the current conversation read
{conversations.HELP}
{moderation_repl.HELP}
{searching.HELP}
{bots_repl.HELP}
{files.HELP}
{webhooks.HELP}
{people.HELP}
{notifications.HELP}
{exporting.HELP}
{emoji.HELP}
{calls.HELP}
{account.HELP}
  /help | /quit               this text | leave (end of input does the same)
  anything else is sent to the current conversation ("//text" sends "/text")
  reactions show as [EMOJI COUNT], with * where one is yours"""

Handler = Callable[[str], Awaitable[None]]


def merged(*tables: dict[str, Handler]) -> dict[str, Handler]:
    """One command table from the modules' tables; a word two modules claim is a bug, not a
    silent override (``/notify`` once lost its older form that way), so it fails at start."""
    commands: dict[str, Handler] = {}
    for table in tables:
        if taken := commands.keys() & table.keys():
            raise ValueError(f"commands claimed twice: {', '.join(sorted(taken))}")
        commands.update(table)
    return commands


class Repl:
    """The REPL state: the connection and the current conversation."""

    def __init__(self, conn: Connection, lines: StdinLines, *, color: bool = False) -> None:
        self.conn = conn
        self.lines = lines
        self.current: str | None = None
        self.ended = False  # the account was deleted: no more commands
        self.view = live.LiveView(conn, self._topic_changed, color=color)
        talk = conversations.ConversationCommands(conn, self.view, self._here)
        self.commands: dict[str, Handler] = merged(
            {
                "topics": self.topics,
                "create": self.create,
                "join": self.join,
                "leave": self.leave,
                "invite": self.invite,
                "msg": self.msg,
                "history": self.history,
                "members": self.members,
                "edit": self.edit,
                "delete": self.delete,
                "unpreview": self.unpreview,
                "read": self.read,
                "help": self.help,
            },
            talk.table(),
            moderation_repl.ModerationCommands(conn, self._here, self._topic_changed).table(),
            searching.Searcher(conn, color=color).table(),
            bots_repl.BotCommands(conn, self._here).table(),
            files.FileCommands(conn, self.view, self._here).table(),
            webhooks.WebhookCommands(conn).table(),
            people.PeopleCommands(conn, self.view.names).table(),
            notifications.NotifyCommands(conn, talk.notify).table(),
            exporting.ExportCommands(conn).table(),
            emoji.EmojiCommands(conn).table(),
            calls.CallCommands(conn, self.view.calls, self._here).table(),
            account.AccountCommands(conn, lines, self._end).table(),
        )

    async def run(self) -> int:
        """Connect and read commands until /quit or end of input."""
        self.view.install()
        session = await self.conn.connect()
        await self.view.names.learn([session.username])  # our own messages show our display name
        out("type /help for commands")
        try:
            while (line := await self.conn.until_lost(self.lines.readline())) is not None:
                if line.strip() in {"/quit", "/exit"}:
                    break
                await self.handle(line)
                if self.ended:
                    return EXIT_OK
        except ClientError as exc:  # the session is lost for good
            if self.ended:  # the server closed our socket as the account went
                return EXIT_OK
            err(render.error_line(exc))
            return EXIT_ERROR
        out("bye")
        return EXIT_OK

    async def handle(self, line: str) -> None:
        """Run one input line; errors are shown, never raised."""
        text = line.strip()
        if not text:
            return
        try:
            if text.startswith("/") and not text.startswith("//"):
                name, _, rest = text[1:].partition(" ")
                handler = self.commands.get(name.lower())
                if handler is None:
                    raise UsageError(f"unknown command /{name} (try /help)")
                await handler(rest.strip())
            else:
                await self.say(text[1:] if text.startswith("//") else text)
        except ClientError as exc:
            err(render.error_line(exc))
        except UsageError as exc:
            err(f"usage: {exc}")
        except Exception as exc:  # a client bug must not end the chat; say it in words
            err(f"error: client: {type(exc).__name__}: {render.safe(exc)}")

    # -- talking -------------------------------------------------------------

    async def say(self, body: str) -> None:
        """Plain text: ``message:send`` to the current conversation."""
        where = self._here()
        target = {"to": where[1:]} if where.startswith("@") else {"topic": where}
        await self._send(target, body)

    async def msg(self, rest: str) -> None:
        user, _, body = rest.partition(" ")
        if not user or not body.strip():
            raise UsageError("/msg USER TEXT")
        await self._send({"to": user.removeprefix("@")}, body.strip())

    async def _send(self, target: dict[str, str], body: str) -> None:
        payload = {**target, "body": body, "client_id": uuid.uuid4().hex}
        self.view.show(as_message(await self.conn.call("message:send", payload)))

    async def edit(self, rest: str) -> None:
        ident, _, body = rest.partition(" ")
        if not body.strip():
            raise UsageError("/edit ID TEXT")
        message = as_message(await self.conn.call("message:edit", {"id": _int(ident), "body": body}))
        out(f"edited message {message['id']}")

    async def delete(self, rest: str) -> None:
        await self.conn.call("message:delete", {"id": _int(rest)})
        out(f"deleted message {_int(rest)}")

    async def unpreview(self, rest: str) -> None:
        """``message:previews:remove`` (PROTOCOL.md section 13): only the sender may; others see why."""
        ident = _int(rest)
        self.view.remember_unpreview(ident)  # the server pushes the echo before its ack
        try:
            await self.conn.call("message:previews:remove", {"id": ident})
        except BaseException:
            self.view.forget_unpreview(ident)
            raise
        out(f"removed the previews of message {ident}")

    async def read(self, rest: str) -> None:
        where = rest or self._here()
        seq = self.view.last_seq(where)
        if seq == 0:
            out(f"nothing to mark read in {render.safe(where)}")
            return
        await self.conn.call("read", {**address(where), "seq": seq})
        out(f"marked {render.safe(where)} read up to #{seq}")

    # -- topics --------------------------------------------------------------

    async def topics(self, _rest: str) -> None:
        listed = [as_topic(t) for t in field_list(await self.conn.call("topic:list"), "topics")]
        if not listed:
            out("no topics yet: /create NAME")
        for topic in listed:
            mark = "*" if self.current and topic["name"].casefold() == self.current.casefold() else " "
            out(f"{mark} {render.topic_line(topic)}")

    async def create(self, rest: str) -> None:
        words = rest.split()
        names = [w for w in words if w != "--private"]
        if len(names) != 1:
            raise UsageError("/create NAME [--private]")
        payload = {"name": names[0], "private": "--private" in words}
        topic = as_topic(await self.conn.call("topic:create", payload))
        name = render.safe(topic["name"])
        out(f"created {name} ({render.safe(topic.get('kind', '?'))}); /join {name} to talk there")

    async def join(self, rest: str) -> None:
        name = _one(rest, "/join NAME | /join @USER")
        if name.startswith("@"):
            await self._open_direct(name)
            return
        data = await self.conn.call("topic:subscribe", {"topic": name})
        topic = as_topic(data.get("topic") if isinstance(data, dict) else None)
        await self.view.learn(field_list(data, "history"))
        self.view.show_history(field_list(data, "history"))
        self.current = topic["name"]
        out(f"joined {render.safe(self.current)} ({render.topic_summary(topic)})")
        if topic.get("description"):
            out(f"{render.INDENT}{render.safe(topic.get('description'))}")

    async def _open_direct(self, name: str) -> None:
        try:
            page = await self.conn.call("history", {"with": name[1:], "limit": 20})
            await self.view.learn(field_list(page, "messages"))
            self.view.show_history(field_list(page, "messages"))
        except ClientError as exc:
            if exc.code != "not_found":
                raise
        self.current = name
        out(f"talking with {render.safe(name)}")

    async def leave(self, rest: str) -> None:
        name = rest or self._here()
        if name.startswith("@"):
            raise UsageError("direct conversations cannot be left")
        await self.conn.call("topic:unsubscribe", {"topic": name})
        if self.current and name.casefold() == self.current.casefold():
            self.current = None
        out(f"left {render.safe(name)}")

    async def invite(self, rest: str) -> None:
        words = rest.split()
        if len(words) not in (1, 2):
            raise UsageError("/invite [NAME] USER")
        topic, user = (words[0], words[1]) if len(words) == 2 else (self._here(), words[0])
        await self.conn.call("topic:invite", {"topic": topic, "username": user})
        out(f"invited {render.safe(user)} to {render.safe(topic)}")

    async def history(self, rest: str) -> None:
        limit = _int(rest) if rest else 20
        if not 1 <= limit <= 200:
            raise UsageError("/history [N] with N from 1 to 200")
        page = await self.conn.call("history", {**address(self._here()), "limit": limit})
        messages = field_list(page, "messages")
        await self.view.learn(messages)
        out(f"--- history of {render.safe(self._here())}: {render.plural(len(messages), 'message')} ---")
        self.view.show_history(messages)
        if isinstance(page, dict) and page.get("has_more"):
            out(f"--- older messages exist: /history {min(limit * 2, 200)} ---")

    async def members(self, rest: str) -> None:
        """Every member, or with a name those a word of whose name starts with it: in a topic that
        holds every account (#lobby), the whole list is every account."""
        where = self._here()
        if where.startswith("@"):
            raise UsageError("/members needs a topic; this is a direct conversation")
        query = rest.strip()
        asked = {"topic": where, "query": query, "limit": MEMBERS_FOUND} if query else {"topic": where}
        data = await self.conn.call("topic:members", asked)
        found = field_list(data, "members")
        self.view.names.learn_members(found)
        for member in found:
            out(render.member_line(member))
        if query and not found:
            out(f"* no member of {render.safe(where)} is named {render.safe(query)}...")

    async def help(self, _rest: str) -> None:
        out(HELP)

    def _end(self) -> None:
        self.ended = True

    def _topic_changed(self, old: str, new: str | None) -> None:
        """Topic ``old`` was renamed (to ``new``), deleted or we were removed (``new`` None): follow it."""
        if self.current is None or self.current.startswith("@") or self.current.casefold() != old.casefold():
            return
        self.current = new
        if new is None:
            out(f"* you were in {render.safe(old)}: /join NAME or /join @USER to talk elsewhere")

    def _here(self) -> str:
        if self.current is None:
            raise UsageError("no current conversation: /join NAME or /join @USER first")
        return self.current


async def run(conn: Connection, lines: StdinLines, *, color: bool = False) -> int:
    """Run the interactive client on ``conn`` until /quit or end of input (ANSI colour if ``color``)."""
    return await Repl(conn, lines, color=color).run()


def _one(rest: str, usage: str) -> str:
    words = rest.split()
    if len(words) != 1:
        raise UsageError(usage)
    return words[0]


def _int(text: str) -> int:
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        raise UsageError(f"expected a number, got {text!r}") from None
