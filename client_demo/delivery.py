"""At-least-once bookkeeping on the client side (PROTOCOL.md section 4).

The server may send a message twice (live, then again in the backlog of the
next connection): ``Deduper`` drops repeats by ``id``. ``DeliveryTracker``
keeps the highest ``seq`` shown per conversation and hands out cumulative
``delivered`` payloads in batches, so the client sends one ack per
conversation per flush instead of one per message.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from client_demo.models import Conversation, Message, conversation


class Deduper:
    """Remembers the most recent ``capacity`` message ids."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[int, None] = OrderedDict()

    def first_time(self, message_id: int) -> bool:
        """True the first time an id is offered; False for a repeat."""
        if message_id in self._seen:
            self._seen.move_to_end(message_id)
            return False
        self._seen[message_id] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True


class DeliveryTracker:
    """Highest delivered ``seq`` per conversation: confirmed, and still to send."""

    def __init__(self) -> None:
        self._confirmed: dict[Conversation, int] = {}
        self._pending: dict[Conversation, int] = {}

    def mark(self, message: Message) -> None:
        """Record that ``message`` reached the user."""
        self.offer(conversation(message["topic"]), message["seq"])

    def offer(self, key: Conversation, seq: int) -> None:
        """Queue ``seq`` for ``key`` unless an equal or higher one is known."""
        if seq > max(self._confirmed.get(key, 0), self._pending.get(key, 0)):
            self._pending[key] = seq

    def take(self) -> list[tuple[Conversation, int]]:
        """Everything still to send; the caller confirms or offers it back."""
        batch = list(self._pending.items())
        self._pending.clear()
        return batch

    def confirm(self, key: Conversation, seq: int) -> None:
        """The server acknowledged ``delivered`` up to ``seq``."""
        self._confirmed[key] = max(seq, self._confirmed.get(key, 0))

    def rename(self, old: Conversation, new: Conversation) -> None:
        """A topic was renamed: its position is kept (and acknowledged) under the new name."""
        for table in (self._confirmed, self._pending):
            moved = [key for key in table if key[0] == old[0] and key[1].casefold() == old[1].casefold()]
            for key in moved:
                table[new] = max(table.pop(key), table.get(new, 0))

    def forget(self, key: Conversation) -> None:
        """A topic was deleted: nothing more to acknowledge there."""
        for table in (self._confirmed, self._pending):
            for known in [k for k in table if k[0] == key[0] and k[1].casefold() == key[1].casefold()]:
                del table[known]

    @property
    def idle(self) -> bool:
        """True when nothing waits to be sent."""
        return not self._pending

    @staticmethod
    def payload(key: Conversation, seq: int) -> dict[str, Any]:
        """The ``delivered`` event payload: ``{"topic"|"with": ..., "seq": n}``."""
        return {key[0]: key[1], "seq": seq}
