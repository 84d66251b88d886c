"""DTOs of blocking (PROTOCOL.md section 10): whom a user blocks, and the list of them."""

from __future__ import annotations

from server.chat.kernel.schemas import In, Out, Username


class BlockIn(In):
    username: Username


class BlocksOut(Out):
    users: list[str]
