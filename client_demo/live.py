"""What the interactive client shows as it happens.

``LiveView`` subscribes to the server-to-client events of PROTOCOL.md
section 4 and writes one line for each. Every message shown (live, backlog,
history, or the ack of our own send) is shown once, counted as delivered, and
remembered as the conversation's last ``seq`` for ``/read`` (and its id as a
message of that conversation, for ``/reply`` and ``/thread``). The events of
section 8 (``reaction:updated``, ``thread:updated``, ``pins:updated``) are
shown too, except a reaction or pin list just shown from the ack of our own
``/react`` or ``/pin`` (``remember_reactions``, ``remember_pins``). When an operator
renames or deletes a topic (``topic:renamed``, ``topic:deleted``) what is kept
under its name moves or goes, and ``topic_changed`` is told (the REPL's
current conversation follows); so it is when a moderator removes us from a
topic (``topic:removed``, section 10). A system message (section 10's
moderation actions, pins) is shown like any message, as ``* SENTENCE``; a
message of a user we block is folded. Section 13's ``message:previews`` (a
message's link previews are ready, or were removed) is shown as the preview
lines, except the removal we just asked for with ``/unpreview``
(``remember_unpreview``, before asking: the echo comes before the ack).
Section 14: a sender is shown with their display name (``Alice Liddell
(@alice)``) once ``names`` knows it; a message from a sender not looked up yet
waits for that ``users:get``, and the live lines keep their order
(python-socketio runs each event in its own task: they take turns). A
``user:updated`` is shown as what changed, ``presence`` with the availability.
Section 18's ``call:started`` and ``call:ended`` are shown as lines (``client_demo.calls``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from client_demo import calls, people, render
from client_demo.connection import Connection, EventHandler
from client_demo.models import Message, int_field, is_message, name_field
from client_demo.output import out

REMEMBERED = 10_000  # message ids kept for /reply, /thread and the reaction echo

# Called with (old name, new name) after a rename, (name, None) after a deletion.
TopicChanged = Callable[[str, str | None], None]


class LiveView:
    """Writes live events as lines; remembers the last ``seq`` per conversation."""

    def __init__(
        self, conn: Connection, topic_changed: TopicChanged | None = None, *, color: bool = False
    ) -> None:
        self.conn = conn
        self.color = color
        self._last: dict[str, int] = {}
        self._places: dict[int, str] = {}  # message id -> its conversation, oldest first
        self._reactions: dict[int, str] = {}  # message id -> the reactions last shown
        self._pins: dict[str, str] = {}  # conversation -> the pins line last shown
        self._unpreviewed: set[int] = set()  # message ids whose previews we removed: echo not shown
        self._topic_changed = topic_changed
        self.names = people.Names(conn)
        self.calls = calls.CallLog()  # section 18: where each call runs, the one we are in
        self._turn = asyncio.Lock()  # live events are shown in the order they came

    def install(self) -> None:
        """Register the event handlers (before connecting: the backlog comes first)."""
        self.conn.on_message(self._on_message)
        self.conn.on_notice(lambda text: out(f"* {text}"))
        lines: dict[str, Callable[[Any], str | None]] = {
            "message:edited": self._edited,
            "reaction:updated": self._reactions_changed,
            "thread:updated": render.thread_line,
            "pins:updated": self._pins_changed,
            "message:previews": self._previews_changed,
            "message:deleted": render.deleted_line,
            "typing": render.typing_line,
            "presence": render.presence_line,
            "topic:invited": render.invited_line,
            "topic:created": render.created_line,
            "topic:member": render.member_news_line,
            "read": render.read_line,
            "user:updated": self._user_updated,
            "call:started": self.calls.started_line,
            "call:ended": self.calls.ended_line,
        }
        for event, to_line in lines.items():
            self.conn.on_event(event, self._in_turn(_printer(to_line)))
        self.conn.on_event("topic:renamed", self._in_turn(self._on_renamed))
        self.conn.on_event("topic:deleted", self._in_turn(self._on_deleted))
        self.conn.on_event("topic:removed", self._in_turn(self._on_removed))

    async def learn(self, messages: list[Any]) -> None:
        """Look up the display names of the senders of ``messages`` not looked up yet."""
        await self.names.learn(m["sender"] for m in messages if is_message(m) and m.get("type") != "system")

    def show(self, message: Message) -> None:
        """Show ``message`` unless it was shown already."""
        if self.conn.first_time(message):
            self._write(message)

    def show_history(self, messages: list[Any]) -> None:
        """Show a page of history (oldest first), even messages shown before."""
        for message in messages:
            if is_message(message):
                self.conn.first_time(message)
                self._write(message)

    def show_list(self, messages: list[Any]) -> None:
        """Show messages out of ``seq`` order (pins, a thread): not counted as delivered."""
        for message in messages:
            if is_message(message):
                out(render.message_line(message, self.look()))
                self._remember(self._places, message["id"], message["topic"])

    def last_seq(self, where: str) -> int:
        """The highest ``seq`` shown for a conversation (``name`` or ``@user``)."""
        return self._last.get(where.casefold(), 0)

    def place(self, message_id: int) -> str | None:
        """The conversation of a message shown in this session (``name`` or ``@user``), if any."""
        return self._places.get(message_id)

    def look(self) -> render.Look:
        """How lines are drawn: for the logged-in user, in colour if wanted."""
        me = self.conn.session.username if self.conn.session is not None else None
        return render.Look(me=me, color=self.color, names=self.names.display())

    def remember_reactions(self, data: Any) -> None:
        """Our own reaction ack was shown: its ``reaction:updated`` echo need not be."""
        ident = int_field(data, "id")
        if ident is not None:
            self._remember(self._reactions, ident, render.reactions_text(data.get("reactions")))

    def remember_pins(self, data: Any) -> None:
        """Our own pin ack was shown: its ``pins:updated`` echo need not be."""
        name = name_field(data, "topic")
        if name is not None:
            self._pins[name.casefold()] = render.pins_line(data)

    def remember_unpreview(self, message_id: int) -> None:
        """Our ``/unpreview`` is on its way and its ack says so: its ``message:previews`` ``[]`` need not be.

        Called before the request is sent: the server pushes that echo before it acknowledges.
        """
        self._unpreviewed.add(message_id)

    def forget_unpreview(self, message_id: int) -> None:
        """Our ``/unpreview`` was refused: no echo will come, a later removal is shown."""
        self._unpreviewed.discard(message_id)

    async def _on_message(self, message: Message) -> None:
        async with self._turn:
            if message.get("type") != "system" and not self.names.known(message["sender"]):
                await self.names.learn([message["sender"]])
            self._write(message)

    def _in_turn(self, handler: Callable[[Any], Awaitable[None]]) -> EventHandler:
        async def in_turn(data: Any = None) -> None:
            async with self._turn:
                await handler(data)

        return in_turn

    def _user_updated(self, data: Any) -> str | None:
        return self.names.updated(data, self.look().me)

    def _write(self, message: Message) -> None:
        out(render.message_line(message, self.look()))
        self.conn.mark_delivered(message)
        key = message["topic"].casefold()
        self._last[key] = max(self._last.get(key, 0), message["seq"])
        self._remember(self._places, message["id"], message["topic"])

    def _reactions_changed(self, data: Any) -> str | None:
        ident = int_field(data, "id")
        if ident is None:
            return None
        chips = render.reactions_text(data.get("reactions"))
        if self._reactions.get(ident) == chips:
            return None  # the echo of what we just showed
        self._remember(self._reactions, ident, chips)
        return render.reactions_line(data, self.look())

    def _pins_changed(self, data: Any) -> str | None:
        name = name_field(data, "topic")
        if name is None:
            return None
        line = render.pins_line(data)
        if self._pins.get(name.casefold()) == line:
            return None
        self._pins[name.casefold()] = line
        return line

    def _previews_changed(self, data: Any) -> str | None:
        ident = int_field(data, "id")
        if ident is not None and ident in self._unpreviewed and data.get("previews") == []:
            self._unpreviewed.discard(ident)
            return None  # the echo of our own /unpreview
        return render.previews_line(data)

    @staticmethod
    def _remember(table: dict[int, str], key: int, value: str) -> None:
        table.pop(key, None)
        table[key] = value
        if len(table) > REMEMBERED:
            del table[next(iter(table))]

    async def _on_renamed(self, data: Any) -> None:
        old, new = name_field(data, "topic"), name_field(data, "name")
        if old is None or new is None:
            return
        seq = self._last.pop(old.casefold(), 0)
        if seq:
            self._last[new.casefold()] = max(seq, self._last.get(new.casefold(), 0))
        for ident, place in self._places.items():
            if place.casefold() == old.casefold():
                self._places[ident] = new
        self.conn.topic_renamed(old, new)
        out(render.renamed_line(data))
        if self._topic_changed is not None:
            self._topic_changed(old, new)

    async def _on_deleted(self, data: Any) -> None:
        name = name_field(data, "topic")
        if name is None:
            return
        self._last.pop(name.casefold(), None)
        self._places = {k: v for k, v in self._places.items() if v.casefold() != name.casefold()}
        self.conn.topic_deleted(name)
        out(render.topic_deleted_line(data))
        if self._topic_changed is not None:
            self._topic_changed(name, None)

    async def _on_removed(self, data: Any) -> None:
        """A moderator kicked or banned us: nothing more arrives from the topic, or is acknowledged."""
        name = name_field(data, "topic")
        if name is None:
            return
        self.conn.topic_deleted(name)
        out(render.removed_line(data))
        if self._topic_changed is not None:
            self._topic_changed(name, None)

    def _edited(self, data: Any) -> str | None:
        return render.edited_line(data, self.look()) if is_message(data) else None


def _printer(to_line: Callable[[Any], str | None]) -> EventHandler:
    async def handler(data: Any = None) -> None:
        line = to_line(data)
        if line is not None:
            out(line)

    return handler
