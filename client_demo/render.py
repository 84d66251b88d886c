"""Wire objects as terminal lines. Pure functions: no I/O, no state.

Text from other users is made safe for a terminal: control characters
(escape sequences included) are shown as ``\\x1b``-style escapes
(``controls``), and a multi-line body continues on indented lines. A message
line carries what PROTOCOL.md section 8 adds (see ``message_line``) and the
link previews of section 13 (``previews``); a ``Look`` says who reads (their
mentions stand out) and whether ANSI colour may be used. With colour a body's
Markdown is drawn with terminal styles (``markup``); without, it is printed as
written, which pipes, scripts and the tests read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from client_demo import markup, mentions, previews
from client_demo.controls import one_line, visible
from client_demo.errors import ClientError
from client_demo.models import Member, Message, Reaction, Topic, as_reactions, int_field

INDENT = "    "
FOLDED = "[message from a blocked user]"
BOT = " [bot]"  # after a bot sender's name


@dataclass(frozen=True)
class Look:
    """Who reads the lines (``me``: mentions of them stand out), whether colour is on, and the
    display names known (``names``: username -> display name, shown next to the sender)."""

    me: str | None = None
    color: bool = False
    names: Mapping[str, str] = field(default_factory=dict)


PLAIN = Look()


def safe(text: object) -> str:
    """``text`` with control characters escaped (newlines become indented lines)."""
    return f"\n{INDENT}".join(visible(line) for line in str(text).split("\n"))


def clock(iso: object) -> str:
    """An ISO 8601 time as local ``HH:MM``; ``--:--`` when it cannot be read."""
    if not isinstance(iso, str):
        return "--:--"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return "--:--"
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%H:%M")


def message_line(message: Message, look: Look = PLAIN) -> str:
    """``12:04 [general #3] alice: hello  (id 12)``: the id is what ``/edit`` and ``/delete`` take.

    A bot's name is followed by ``[bot]`` (PROTOCOL.md section 12). A thread reply says
    ``[thread #ROOT]`` after the place; after the body come
    ``(pinned)``, the reactions (``[👍 2*]``, ``*``: mine), a thread's summary
    (``[thread: 3 replies, last 12:05]``); a reply's quote follows on an
    indented line (``> bob: excerpt``), then the files, then the link previews
    (``↳ preview: Title — Site (url)``, section 13). A system message is ``* TEXT``; a message
    of a user I block is folded (``[message from a blocked user]``, no sender).
    """
    if message.get("type") == "system":
        return system_line(message)
    if message.get("blocked") is True:
        return f"{clock(message.get('created_at'))} {_where(message)} {FOLDED}{_id(message)}"
    files = file_lines(message)
    text = _body(message, look) if message.get("body") or files else "(deleted)"
    edited = " (edited)" if message.get("edited_at") else ""
    where = f"{clock(message.get('created_at'))} {_where(message)}{_thread_tag(message)}"
    sender = sender_name(message["sender"], look) + (BOT if message.get("bot") is True else "")
    line = f"{where} {sender}: {text}{edited}{_extras(message, look)}{_id(message)}"
    quote = _quote(message)
    below = ([] if quote is None else [quote]) + files + previews.preview_lines(message.get("previews"))
    return "\n".join([line] + [f"{INDENT}{b}" for b in below])


def sender_name(username: object, look: Look = PLAIN) -> str:
    """``alice``, or ``Alice Liddell (@alice)`` when a display name is known (PROTOCOL.md section 14)."""
    name = look.names.get(username) if isinstance(username, str) else None
    if not name or not one_line(name):
        return safe(username)
    return f"{one_line(name)} (@{safe(username)})"


def file_lines(message: Message) -> list[str]:
    """One line per file of a message (PROTOCOL.md section 11): ``[file] name (12.3 KiB, image
    640x480) id 3f0c... /api/files/3f0c...``."""
    files = message.get("files")
    if not isinstance(files, list):
        return []
    lines = []
    for found in files:
        if not isinstance(found, dict):
            continue
        size = found.get("size")
        about = [human_size(size)] if isinstance(size, int) else []
        image = found.get("image")
        if isinstance(image, dict):
            about.append(f"image {_get(image, 'width')}x{_get(image, 'height')}")
        lines.append(
            f"[file] {_get(found, 'name')} ({', '.join(about)}) id {_get(found, 'id')} {_get(found, 'url')}"
        )
    return lines


def human_size(size: int) -> str:
    """``512 B``, ``12.3 KiB``, ``4.0 MiB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


def edited_line(message: Message, look: Look = PLAIN) -> str:
    """``12:05 [general #3] alice edited: hello again  (id 12)``; folded as ``message_line``."""
    if message.get("blocked") is True:
        return f"{clock(message.get('edited_at'))} {_where(message)} {FOLDED} edited{_id(message)}"
    body = _body(message, look)
    where = f"{clock(message.get('edited_at'))} {_where(message)} {sender_name(message['sender'], look)}"
    return f"{where} edited: {body}{_id(message)}"


def system_line(message: Message) -> str:
    """``12:06 [general #4] * alice pinned a message  (message 12)``: the id is the pinned one's.

    The server's body is already the sentence (``alice muted bob for 5 minutes``,
    PROTOCOL.md section 10); the system object's ``reason`` is added when the body lacks it.
    """
    system = message.get("system")
    body = str(message.get("body") or "")
    reason = _raw(system, "reason")
    if isinstance(reason, str) and reason and f"({reason})" not in body:
        body = f"{body} ({reason})"
    target = int_field(system, "id")
    about = f"  (message {target})" if target is not None else ""
    where = f"{clock(message.get('created_at'))} {_where(message)}"
    return f"{where} * {safe(body)}{about}"


def reactions_text(reactions: Any, look: Look = PLAIN) -> str:
    """``[👍 2*] [🎉 1]`` (``*``: I reacted so), or ``none``."""
    chips = [_chip(r, look) for r in as_reactions(reactions)]
    return " ".join(chips) if chips else "none"


def reactions_line(data: Any, look: Look = PLAIN) -> str:
    """``reaction:updated`` (or a reaction ack): ``* reactions on message 12 in general: [👍 1*]``."""
    topic = data.get("topic") if isinstance(data, dict) else None
    where = f" in {safe(topic)}" if isinstance(topic, str) else ""
    chips = reactions_text(_raw(data, "reactions"), look)
    return f"* reactions on message {_get(data, 'id')}{where}: {chips}"


def thread_line(data: Any) -> str:
    """``thread:updated``: ``* thread #12 in general: 3 replies (bob, alice), last 12:05``."""
    summary = _raw(data, "thread_summary")
    head = f"* thread #{_get(data, 'root')} in {_get(data, 'topic')}"
    count = _int(summary, "count")
    if count == 0:
        return f"{head}: no replies"
    names = _raw(summary, "participants")
    who = f" ({', '.join(safe(n) for n in names)})" if isinstance(names, list) and names else ""
    return f"{head}: {plural(count, 'reply')}{who}, last {clock(_raw(summary, 'last_at'))}"


def pins_line(data: Any) -> str:
    """``pins:updated`` (or a pin ack): ``* pins in general: 2 (ids 12, 9)``, newest first."""
    pins = _raw(data, "pins")
    found = (int_field(p, "id") for p in (pins if isinstance(pins, list) else []))
    ids = [str(i) for i in found if i is not None]
    listed = f"{len(ids)} (ids {', '.join(ids)})" if ids else "none"
    return f"* pins in {_get(data, 'topic')}: {listed}"


def sent_line(message: Message) -> str:
    """What ``send`` prints: ``sent id=12 seq=3 topic=general``."""
    return f"sent id={message['id']} seq={message['seq']} topic={safe(message['topic'])}"


def message_json(message: Message) -> str:
    """One Message as a single JSON line."""
    return json_line(message)


def json_line(data: Any) -> str:
    """Any payload as a single compact JSON line."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def change_line(event: str, data: Any, look: Look = PLAIN) -> str | None:
    """A ``reaction:updated``, ``thread:updated``, ``pins:updated`` or ``message:previews`` event."""
    if event == "reaction:updated":
        return reactions_line(data, look)
    if event == "message:previews":
        return previews_line(data)
    return thread_line(data) if event == "thread:updated" else pins_line(data)


def previews_line(data: Any) -> str | None:
    """``message:previews``: ``* previews of message 12 in general:`` and the previews, or ``removed``."""
    return previews.previews_event_line(data, INDENT)


def topic_line(topic: Topic) -> str:
    """``general                  public, 3 members, 1 online, 0 unread, subscribed``."""
    return f"{safe(topic['name']):<24} {topic_summary(topic)}"


def topic_summary(topic: Topic) -> str:
    """``public, 3 members, 1 online, 0 unread, subscribed``; ``public (archived), ...`` when archived."""
    parts = [
        safe(topic.get("kind", "?")) + (" (archived)" if topic.get("archived") is True else ""),
        plural(_int(topic, "members"), "member"),
        f"{_int(topic, 'online')} online",
        f"{_int(topic, 'unread')} unread",
    ]
    if "mentions" in topic:
        parts.append(plural(_int(topic, "mentions"), "mention"))
    if "notify" in topic:
        parts.append(f"notify {safe(topic.get('notify'))}")
    if topic.get("subscribed"):
        parts.append("subscribed")
    if topic.get("role") in ("admin", "moderator"):  # section 3 (Parley): my role there, when I moderate
        parts.append(f"you are {topic['role']}")
    return ", ".join(parts)


def member_line(member: Member) -> str:
    """``alice (owner, online)``."""
    state = "online" if member.get("online") else "offline"
    return f"{safe(member.get('username', '?'))} ({safe(member.get('role', 'member'))}, {state})"


def member_news_line(data: Any) -> str:
    """The ``topic:member`` event (section 4): ``* bob joined den``, ``* bob left den``."""
    verb = "joined" if _raw(data, "action") == "joined" else "left"
    return f"* {_get(data, 'username')} {verb} {_get(data, 'topic')}"


def ban_line(ban: Any) -> str:
    """One entry of ``topic:bans``: ``dave, by carol, until 2026-11-28 14:05 UTC (spam)``."""
    until = _raw(ban, "until")
    when = f"until {_utc_minute(until)}" if isinstance(until, str) and until else "until unbanned"
    reason = _raw(ban, "reason")
    because = f" ({safe(reason)})" if isinstance(reason, str) and reason else ""
    return f"{_get(ban, 'username')}, by {_get(ban, 'by')}, {when}{because}"


def deleted_line(data: Any) -> str:
    """The ``message:deleted`` event."""
    return f"* message {_get(data, 'id')} in {_get(data, 'topic')} was deleted"


def typing_line(data: Any) -> str | None:
    """The ``typing`` event; None when someone stopped typing (not worth a line)."""
    if not isinstance(data, dict) or not data.get("typing"):
        return None
    return f"* {_get(data, 'username')} is typing in {_get(data, 'topic')}..."


def presence_line(data: Any) -> str:
    """The ``presence`` event: ``* bob is online``, ``* bob is online (dnd)`` (section 14's
    ``availability`` when it is ``away`` or ``dnd``), ``* bob is offline (last seen 12:04)``."""
    chosen = _raw(data, "availability")
    shown = f" ({safe(chosen)})" if isinstance(chosen, str) and chosen not in ("online", "offline") else ""
    if isinstance(data, dict) and data.get("online"):
        return f"* {_get(data, 'username')} is online{shown}"
    return f"* {_get(data, 'username')} is offline (last seen {clock(_raw(data, 'last_seen'))}){shown}"


def invited_line(data: Any) -> str:
    """The ``topic:invited`` event."""
    topic = _raw(data, "topic")
    name = _get(topic, "name")
    return f"* {_get(data, 'by')} added you to {name} ({_get(topic, 'kind')}): /join {name}"


def created_line(data: Any) -> str:
    """The ``topic:created`` event (a new public topic; to its creator, already joined)."""
    topic = _raw(data, "topic")
    name = _get(topic, "name")
    if isinstance(topic, dict) and topic.get("subscribed") is True:
        return f"* {_get(data, 'by')} created {name} ({_get(topic, 'kind')})"
    return f"* {_get(data, 'by')} created {name} ({_get(topic, 'kind')}): /join {name}"


def renamed_line(data: Any) -> str:
    """The ``topic:renamed`` event (an operator renamed a topic)."""
    return f"* topic {_get(data, 'topic')} was renamed to {_get(data, 'name')}"


def topic_deleted_line(data: Any) -> str:
    """The ``topic:deleted`` event (an operator deleted a topic and its messages)."""
    return f"* topic {_get(data, 'topic')} was deleted"


def removed_line(data: Any) -> str:
    """The ``topic:removed`` event (I was kicked or banned): ``* you were removed from den (spam)``;
    a ban says until when (Parley's ``banned`` and ``until``): ``* you were banned from den until
    2026-11-28 14:05 UTC (spam)``, or ``until unbanned``."""
    reason = _raw(data, "reason")
    because = f" ({safe(reason)})" if isinstance(reason, str) and reason else ""
    if _raw(data, "banned") is True:
        until = _raw(data, "until")
        when = f"until {_utc_minute(until)}" if isinstance(until, str) and until else "until unbanned"
        return f"* you were banned from {_get(data, 'topic')} {when}{because}"
    return f"* you were removed from {_get(data, 'topic')}{because}"


def _utc_minute(iso: str) -> str:
    """``2026-11-28T14:05:09Z`` -> ``2026-11-28 14:05 UTC`` (as sent, when it is not a time)."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return safe(iso)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def read_line(data: Any) -> str:
    """The ``read`` event."""
    return f"* {_get(data, 'username')} read {_get(data, 'topic')} up to #{_get(data, 'seq')}"


def error_line(error: ClientError) -> str:
    """``error: forbidden: not a member of secret``."""
    return f"error: {safe(error)}"


def _body(message: Message, look: Look) -> str:
    """As written without colour; with colour, Markdown drawn in styles and my mentions marked."""
    body = str(message.get("body") or "")
    if not look.color:
        return safe(body)
    return f"\n{INDENT}".join(markup.styled(body, _marker(message, look)))


def _marker(message: Message, look: Look) -> markup.Mark | None:
    """What marks my mentions in the body's text, if it mentions me (or all) and is not mine."""
    me = look.me
    if me is None or message.get("sender") == me:
        return None
    named = message.get("mentions")
    mine = isinstance(named, list) and me.casefold() in {str(n).casefold() for n in named}
    everyone = message.get("mentions_all") is True
    if not (mine or everyone):
        return None
    return lambda text: mentions.highlight(text, me, everyone=everyone)


def _thread_tag(message: Message) -> str:
    root = message.get("thread")
    return f" [thread #{root}]" if isinstance(root, int) else ""


def _extras(message: Message, look: Look) -> str:
    parts = ["(pinned)"] if message.get("pinned") is True else []
    if as_reactions(message.get("reactions")):
        parts.append(reactions_text(message.get("reactions"), look))
    count = _int(message.get("thread_summary"), "count")
    if count:
        last = clock(_raw(message.get("thread_summary"), "last_at"))
        parts.append(f"[thread: {plural(count, 'reply')}, last {last}]")
    return "".join(f" {p}" if p.startswith("(") else f"  {p}" for p in parts)


def _chip(reaction: Reaction, look: Look) -> str:
    mine = reaction.get("me") is True
    chip = f"[{safe(reaction['emoji'])} {reaction['count']}{'*' if mine else ''}]"
    return mentions.bold(chip) if mine and look.color else chip


def _quote(message: Message) -> str | None:
    quoted = message.get("reply_to")
    if not isinstance(quoted, dict):
        return None
    excerpt = quoted.get("excerpt")
    text = safe(excerpt.replace("\n", " ")) if isinstance(excerpt, str) and excerpt else "(deleted)"
    return f"> {_get(quoted, 'sender')}: {text}"


def _id(message: Message) -> str:
    return f"  (id {message['id']})" if isinstance(message.get("id"), int) else ""


def _where(message: Message) -> str:
    return f"[{safe(message['topic'])} #{message['seq']}]"


def _raw(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def _get(data: Any, key: str) -> str:
    value = _raw(data, key)
    return "?" if value is None else safe(value)


def _int(data: Any, key: str) -> int:
    value = _raw(data, key)
    return value if isinstance(value, int) else 0


def plural(n: int, noun: str) -> str:
    """``1 member``, ``3 members``; ``1 reply``, ``2 replies``."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"
