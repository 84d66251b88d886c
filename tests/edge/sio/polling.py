"""A raw Engine.IO long-polling client over httpx, for what a stock client will not send.

Each POST carries exactly the packets given (joined by the record separator),
so a test decides what one HTTP body holds.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import httpx

SEPARATOR = "\x1e"
PATH = "/socket.io/"
ACK = re.compile(r"^43(\d+)(.*)$", re.DOTALL)


class Closed(Exception):
    """The server ended the Engine.IO session (a CLOSE packet or a refused request)."""


class RawPolling:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.sid = ""
        self.inbox: list[str] = []

    async def open(self) -> dict[str, Any]:
        """The Engine.IO handshake; the OPEN packet's data."""
        response = await self.http.get(PATH, params={"EIO": "4", "transport": "polling"})
        assert response.status_code == 200, response.text
        assert response.text.startswith("0"), response.text
        handshake: dict[str, Any] = json.loads(response.text[1:])
        self.sid = handshake["sid"]
        return handshake

    def _params(self) -> dict[str, str]:
        return {"EIO": "4", "transport": "polling", "sid": self.sid}

    async def post(self, *packets: str) -> httpx.Response:
        """One POST whose body holds ``packets``."""
        return await self.http.post(PATH, params=self._params(), content=SEPARATOR.join(packets).encode())

    async def poll(self) -> list[str]:
        """One GET: the packets the server had queued (answers PINGs); ``Closed`` when the session ended."""
        response = await self.http.get(PATH, params=self._params())
        if response.status_code != 200:
            raise Closed(response.text)
        packets = response.text.split(SEPARATOR)
        if "1" in packets:
            raise Closed("CLOSE packet")
        if "2" in packets:
            await self.post("3")
        return [p for p in packets if p not in ("2", "6")]

    async def until(self, done: Callable[[list[str]], bool], timeout: float = 10.0) -> list[str]:
        """Poll until ``done(everything received)``; everything received."""

        async def gather() -> None:
            while not done(self.inbox):
                self.inbox.extend(await self.poll())

        try:
            await asyncio.wait_for(gather(), timeout)
        except (TimeoutError, httpx.ReadTimeout):
            raise AssertionError(f"still waiting after {timeout} s; received {self.inbox}") from None
        return self.inbox

    async def connect(self, auth: dict[str, Any]) -> None:
        """Open the transport and the Socket.IO namespace ``/``; wait for ``session``."""
        await self.open()
        response = await self.post("40" + json.dumps(auth))
        assert response.status_code == 200, response.text
        await self.until(lambda got: any(p.startswith('42["session"') for p in got))


def acks(packets: list[str]) -> dict[int, Any]:
    """The Socket.IO ACK packets among ``packets``, by ack id."""
    found = {}
    for packet in packets:
        match = ACK.match(packet)
        if match:
            found[int(match.group(1))] = json.loads(match.group(2))[0]
    return found


def event(ack_id: int, name: str, payload: Any) -> str:
    """A Socket.IO EVENT packet of namespace ``/`` that asks for an ack."""
    return f"42{ack_id}{json.dumps([name, payload])}"
