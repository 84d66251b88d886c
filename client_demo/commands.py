"""The one-shot subcommands, for shell scripts.

Each takes an unconnected ``Connection`` and the parsed arguments, connects,
does one job and returns an exit code; ``ClientError`` propagates to the CLI,
which prints it and exits 1.

- ``send``: ``message:send`` to a topic (joining a public topic first when the
  server says ``forbidden``) or to a user, optionally ``--reply-to`` or
  ``--thread`` a message; prints ``sent id=.. seq=..``.
- ``listen``: subscribes, announces ``listening on NAME`` on stderr, then
  prints each new live message (text or ``--json``) until ``--count``, and
  the changes of section 8 in between (``reaction:updated``,
  ``thread:updated``, ``pins:updated``, and section 13's ``message:previews``;
  as JSON ``{"event", "data"}``, not counted), and section 10's system messages (``* alice muted bob``) as
  messages. If an operator renames the topic it goes on under the new name;
  if one deletes it, it says so and exits 1 (``not_found``); if a moderator
  removes the user from it (``topic:removed``), likewise (``forbidden``).
- ``topics``, ``create``, ``history``: ``topic:list``, ``topic:create``,
  ``history``.
- ``react``/``unreact``, ``pin``/``unpin``, ``pins``, ``notify``,
  ``threadlog``: ``reaction:add``/``remove``, ``message:pin``/``unpin``,
  ``topic:pins``, ``topic:notify`` (a topic or ``@user``), ``thread:history``.
- moderation, blocking and reports (section 10): ``moderation_oneshot``.
- ``emoji``: the workspace's custom emoji (section 13; react with one as ``react ID :name:``).
- ``search``: one page of ``search`` hits, newest first (section 9); the
  cursor of the next page, if any, on stderr as ``next: --cursor C``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from client_demo import emoji, exporting, moderation_oneshot, render, searching
from client_demo.connection import Connection, EventHandler
from client_demo.errors import EXIT_OK, ClientError
from client_demo.models import Message, address, as_message, as_topic, field_list, is_message, name_field
from client_demo.output import err, out, wants_color

Command = Callable[[Connection, argparse.Namespace], Awaitable[int]]
# What `listen` shows besides messages: section 8's changes and section 13's previews.
CHANGES = ("reaction:updated", "thread:updated", "pins:updated", "message:previews")


@dataclass(frozen=True)
class Change:
    """A section 8 event for ``listen``: its name and payload."""

    event: str
    data: Any


async def send(conn: Connection, args: argparse.Namespace) -> int:
    """``send (--topic NAME | --to USER) TEXT``: store one message, print its id and seq."""
    target = {"topic": args.topic} if args.topic else {"to": args.to}
    payload = {**target, "body": " ".join(args.text), "client_id": args.client_id or _client_id()}
    payload.update({k: v for k, v in (("reply_to", args.reply_to), ("thread", args.thread)) if v is not None})
    await conn.connect()
    try:
        data = await conn.call("message:send", payload)
    except ClientError as exc:
        if exc.code != "forbidden" or not args.topic:
            raise
        # Posting needs membership; joining a public topic gives it. The same
        # client_id makes the retry safe even if the first send was stored.
        await conn.call("topic:subscribe", {"topic": args.topic})
        data = await conn.call("message:send", payload)
    message = as_message(data)
    out(render.message_json(message) if args.json else render.sent_line(message))
    return EXIT_OK


async def listen(conn: Connection, args: argparse.Namespace) -> int:
    """``listen [--topic NAME | --with USER] [--count N] [--json]``: print new live messages."""
    inbox: asyncio.Queue[Message | Change | ClientError] = asyncio.Queue()
    wanted: str | None = None
    baseline: dict[str, int] = {}

    async def enqueue(message: Message) -> None:
        inbox.put_nowait(message)

    async def renamed(data: Any) -> None:
        nonlocal wanted
        old, new = name_field(data, "topic"), name_field(data, "name")
        if old is None or new is None:
            return
        conn.topic_renamed(old, new)
        err(render.renamed_line(data))
        if old.casefold() in baseline:
            baseline[new.casefold()] = baseline.pop(old.casefold())
        if wanted == old.casefold():
            wanted = new.casefold()

    def gone(code: str, to_line: Callable[[Any], str]) -> EventHandler:
        async def handler(data: Any) -> None:
            name = name_field(data, "topic")
            if name is None:
                return
            conn.topic_deleted(name)
            line = to_line(data)
            err(line)
            if wanted == name.casefold():
                inbox.put_nowait(ClientError(code, line.removeprefix("* ")))

        return handler

    conn.on_message(enqueue)
    conn.on_event("topic:renamed", renamed)
    conn.on_event("topic:deleted", gone("not_found", render.topic_deleted_line))
    conn.on_event("topic:removed", gone("forbidden", render.removed_line))
    for event in CHANGES:
        conn.on_event(event, _enqueuer(inbox, event))
    conn.on_notice(lambda text: err(f"* {text}"))
    await conn.connect()
    look = _look(conn, args)
    wanted, baseline = await _baseline(conn, args)
    err(f"listening on {args.topic or (f'@{args.with_}' if args.with_ else 'all conversations')}")
    printed = 0
    while args.count is None or printed < args.count:
        message = await conn.until_lost(inbox.get())
        if isinstance(message, ClientError):
            raise message  # the topic listened to is gone
        if isinstance(message, Change):
            _print_change(message, wanted, look, as_json=args.json)
            continue
        name = message["topic"].casefold()
        if (wanted is not None and name != wanted) or message["seq"] <= baseline.get(name, 0):
            continue  # another conversation, or history replayed by the backlog
        out(render.message_json(message) if args.json else render.message_line(message, look))
        conn.mark_delivered(message)
        printed += 1
    return EXIT_OK


def _enqueuer(inbox: asyncio.Queue[Message | Change | ClientError], event: str) -> EventHandler:
    async def enqueue(data: Any = None) -> None:
        inbox.put_nowait(Change(event, data))

    return enqueue


def _print_change(change: Change, wanted: str | None, look: render.Look, *, as_json: bool) -> None:
    """One ``CHANGES`` event of the conversation listened to."""
    name = name_field(change.data, "topic")
    if name is None or (wanted is not None and name.casefold() != wanted):
        return
    if as_json:
        out(render.json_line({"event": change.event, "data": change.data}))
    elif (line := render.change_line(change.event, change.data, look)) is not None:
        out(line)


def _look(conn: Connection, args: argparse.Namespace) -> render.Look:
    me = conn.session.username if conn.session is not None else None
    return render.Look(me=me, color=wants_color(args.color))


async def _baseline(conn: Connection, args: argparse.Namespace) -> tuple[str | None, dict[str, int]]:
    """The conversation to print (None: all) and the last ``seq`` already there."""
    if args.topic:
        data = await conn.call("topic:subscribe", {"topic": args.topic})
        topic = as_topic(data.get("topic") if isinstance(data, dict) else None)
        last = _max_seq(field_list(data, "history"), _last_seq(topic))
        return topic["name"].casefold(), {topic["name"].casefold(): last}
    if args.with_:
        name = f"@{args.with_}".casefold()
        try:
            page = await conn.call("history", {"with": args.with_, "limit": 1})
        except ClientError as exc:
            if exc.code != "not_found":
                raise
            return name, {}  # no conversation yet: everything will be new
        return name, {name: _max_seq(field_list(page, "messages"), 0)}
    topics = [as_topic(t) for t in field_list(await conn.call("topic:list"), "topics")]
    return None, {t["name"].casefold(): _last_seq(t) for t in topics}


async def topics(conn: Connection, args: argparse.Namespace) -> int:
    """``topics [--json]``: every topic and conversation visible to the user."""
    await conn.connect()
    listed = [as_topic(t) for t in field_list(await conn.call("topic:list"), "topics")]
    for topic in listed:
        out(json.dumps(topic, ensure_ascii=False) if args.json else render.topic_line(topic))
    return EXIT_OK


async def create(conn: Connection, args: argparse.Namespace) -> int:
    """``create NAME [--private]``: create a topic; the creator owns it."""
    await conn.connect()
    topic = as_topic(await conn.call("topic:create", {"name": args.name, "private": args.private}))
    out(f"created {render.safe(topic['name'])} ({render.safe(topic.get('kind', '?'))})")
    return EXIT_OK


async def history(conn: Connection, args: argparse.Namespace) -> int:
    """``history (--topic NAME | --with USER) [--limit N] [--json]``: the latest page."""
    target: dict[str, Any] = {"topic": args.topic} if args.topic else {"with": args.with_}
    await conn.connect()
    page = await conn.call("history", {**target, "limit": args.limit})
    _print_messages(conn, args, field_list(page, "messages"))
    return EXIT_OK


def _print_messages(conn: Connection, args: argparse.Namespace, messages: list[Any]) -> None:
    look = _look(conn, args)
    for message in (as_message(m) for m in messages):
        out(render.message_json(message) if args.json else render.message_line(message, look))


async def react(conn: Connection, args: argparse.Namespace) -> int:
    """``react ID EMOJI [--json]`` / ``unreact ...``: print the message's reactions after the change."""
    event = "reaction:add" if args.command == "react" else "reaction:remove"
    await conn.connect()
    data = await conn.call(event, {"id": args.id, "emoji": args.emoji})
    if args.json:
        out(render.json_line(data))
    else:
        out(render.reactions_line(data, _look(conn, args)).removeprefix("* "))
    return EXIT_OK


async def pin(conn: Connection, args: argparse.Namespace) -> int:
    """``pin ID [--json]`` / ``unpin ...``: ``pinned message 12 in general (2 pins)``."""
    await conn.connect()
    data = await conn.call(f"message:{args.command}", {"id": args.id})
    count = render.plural(len(field_list(data, "pins")), "pin")
    done = "pinned" if args.command == "pin" else "unpinned"
    where = render.safe(data.get("topic", "?"))
    out(render.json_line(data) if args.json else f"{done} message {args.id} in {where} ({count})")
    return EXIT_OK


async def pins(conn: Connection, args: argparse.Namespace) -> int:
    """``pins NAME|@USER [--json]``: the pinned messages, newest pin first."""
    await conn.connect()
    _print_messages(conn, args, field_list(await conn.call("topic:pins", address(args.topic)), "pins"))
    return EXIT_OK


async def notify(conn: Connection, args: argparse.Namespace) -> int:
    """``notify NAME|@USER all|mentions|none [--json]``: ``notify general: mentions``."""
    await conn.connect()
    topic = as_topic(await conn.call("topic:notify", {**address(args.topic), "level": args.level}))
    if args.json:
        out(json.dumps(topic, ensure_ascii=False))
    else:
        out(f"notify {render.safe(topic['name'])}: {render.safe(topic.get('notify', args.level))}")
    return EXIT_OK


async def threadlog(conn: Connection, args: argparse.Namespace) -> int:
    """``threadlog ID [--limit N] [--json]``: the latest page of a thread's replies, oldest first."""
    await conn.connect()
    page = await conn.call("thread:history", {"root": args.root, "limit": args.limit})
    _print_messages(conn, args, field_list(page, "messages"))
    return EXIT_OK


async def search(conn: Connection, args: argparse.Namespace) -> int:
    """``search QUERY [--topic T | --with U] [--limit N] [--cursor C] [--json]``: one page of hits.

    A line per hit (``searching.hit_line``; ``--json``: ``{"message", "highlight"}`` as sent),
    then, when there are more, ``next: --cursor C`` on stderr.
    """
    query = " ".join(args.query)
    fields = {"topic": args.topic, "with_": args.with_, "limit": args.limit, "cursor": args.cursor}
    await conn.connect()
    page = searching.as_page(await conn.call("search", searching.payload(query, **fields)))
    for hit in page.hits:
        if args.json:
            out(render.json_line({"message": hit.message, "highlight": hit.highlight}))
        else:
            out(searching.hit_line(hit, color=wants_color(args.color)))
    if page.next:
        err(f"next: --cursor {page.next}")
    return EXIT_OK


COMMANDS: dict[str, Command] = {
    "send": send,
    "listen": listen,
    "topics": topics,
    "create": create,
    "history": history,
    "react": react,
    "unreact": react,
    "pin": pin,
    "unpin": pin,
    "pins": pins,
    "notify": notify,
    "threadlog": threadlog,
    **moderation_oneshot.COMMANDS,
    "search": search,
    "export": exporting.oneshot,  # PROTOCOL.md section 16
    "emoji": emoji.oneshot,  # PROTOCOL.md section 13: custom emoji
}


def _client_id() -> str:
    return uuid.uuid4().hex


def _max_seq(messages: list[Any], floor: int) -> int:
    seqs: list[int] = [m["seq"] for m in messages if is_message(m)]
    return max([floor, *seqs])


def _last_seq(topic: Any) -> int:
    value = topic.get("last_seq") if isinstance(topic, dict) else None
    return int(value) if isinstance(value, int) else 0
