"""What the interactive client shows as it happens.

``LiveView`` subscribes to the server-to-client events of PROTOCOL.md
section 4 and writes one line for each. Every message shown (live, backlog,
history, or the ack of our own send) is shown once, counted as delivered, and
remembered as the conversation's last ``seq`` for ``/read``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from client_demo import render
from client_demo.connection import Connection, EventHandler
from client_demo.models import Message, is_message
from client_demo.output import out


class LiveView:
    """Writes live events as lines; remembers the last ``seq`` per conversation."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._last: dict[str, int] = {}

    def install(self) -> None:
        """Register the event handlers (before connecting: the backlog comes first)."""
        self.conn.on_message(self._on_message)
        self.conn.on_notice(lambda text: out(f"* {text}"))
        lines: dict[str, Callable[[Any], str | None]] = {
            "message:edited": self._edited,
            "message:deleted": render.deleted_line,
            "typing": render.typing_line,
            "presence": render.presence_line,
            "topic:invited": render.invited_line,
            "read": render.read_line,
        }
        for event, to_line in lines.items():
            self.conn.on_event(event, _printer(to_line))

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

    def last_seq(self, where: str) -> int:
        """The highest ``seq`` shown for a conversation (``name`` or ``@user``)."""
        return self._last.get(where.casefold(), 0)

    async def _on_message(self, message: Message) -> None:
        self._write(message)

    def _write(self, message: Message) -> None:
        out(render.message_line(message))
        self.conn.mark_delivered(message)
        key = message["topic"].casefold()
        self._last[key] = max(self._last.get(key, 0), message["seq"])

    def _edited(self, data: Any) -> str | None:
        return render.edited_line(data) if is_message(data) else None


def _printer(to_line: Callable[[Any], str | None]) -> EventHandler:
    async def handler(data: Any = None) -> None:
        line = to_line(data)
        if line is not None:
            out(line)

    return handler
