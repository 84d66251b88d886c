"""What the rule tables of tests/chat compare: an awaited call's answer as one string."""

from __future__ import annotations

from collections.abc import Awaitable

from server.chat.kernel.errors import ChatError


async def answer(call: Awaitable[object]) -> str:
    """``ok``, or the refusal's code and message (``"not_found: no topic named 'den'"``)."""
    try:
        await call
    except ChatError as refusal:
        return f"{refusal.code.value}: {refusal.message}"
    return "ok"
