"""The echo upstream: forward one payload to a WebSocket echo server.

A fresh connection per payload keeps it simple and robust (no shared state
to repair after a failure); every step is bounded by ``timeout`` seconds so
an unreachable upstream answers an error instead of hanging.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from websockets.asyncio.client import connect

from server.chat.echo import Upstream


def websocket_upstream(url: str, timeout: float) -> Upstream:
    async def exchange(payload: Any) -> str | bytes:
        async with connect(url, open_timeout=timeout, close_timeout=1) as ws:
            await ws.send(orjson.dumps(payload).decode())
            return await ws.recv()

    async def forward(payload: Any) -> Any:
        answer = await asyncio.wait_for(exchange(payload), timeout)
        try:
            return orjson.loads(answer)
        except orjson.JSONDecodeError:
            return answer if isinstance(answer, str) else answer.decode(errors="replace")

    return forward
