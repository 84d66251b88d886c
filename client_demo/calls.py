"""Calls (PROTOCOL.md section 18) in a terminal: no media, only who calls where and for how long.

``CallLog`` turns the live ``call:started`` and ``call:ended`` events into lines
(``* alice started a video call in den``, ``* the call in den ended after 2 min 5 s``); it
remembers where each call it heard of runs, since ``call:ended`` names only the call. The REPL's
``/call [audio|video]`` starts a call in the current conversation, or joins the one running
there, and ``/hangup`` leaves it: the others see this client come and go, but it sends and
receives no audio or video (a terminal has none), so it answers no signal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from client_demo import render
from client_demo.connection import Connection
from client_demo.errors import UsageError
from client_demo.output import out

HELP = """\
  /call [audio|video]         start a call in the current conversation, or join the one there (no media)
  /hangup                     leave the call you are in"""

Handler = Callable[[str], Awaitable[None]]
MEDIA = {"audio": "an audio call", "video": "a video call"}


def spoken(seconds: object) -> str:
    """``2 min 5 s``, ``1 h 3 min``, ``40 s``."""
    total = seconds if isinstance(seconds, int) and seconds >= 0 else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def where(call: Any) -> str:
    """A Call's conversation as the REPL names it: ``den``, or ``@bob`` for a direct one."""
    if not isinstance(call, dict):
        return "?"
    if isinstance(call.get("with"), str):
        return f"@{render.safe(call['with'])}"
    return render.safe(call.get("topic", "?"))


class CallLog:
    """The calls this client heard of: where each runs, and the one it takes part in."""

    def __init__(self) -> None:
        self.places: dict[int, str] = {}  # call id -> its conversation
        self.mine: int | None = None  # the call this client takes part in

    def learn(self, call: Any) -> str:
        place = where(call)
        if isinstance(call, dict) and isinstance(call.get("id"), int):
            self.places[call["id"]] = place
        return place

    def started_line(self, call: Any) -> str:
        """``call:started``: ``* alice started a video call in den``."""
        place = self.learn(call)
        media = MEDIA.get(str(call.get("media")) if isinstance(call, dict) else "", "a call")
        by = render.safe(call.get("started_by", "?")) if isinstance(call, dict) else "?"
        return f"* {by} started {media} in {place}"

    def ended_line(self, data: Any) -> str:
        """``call:ended``: ``* the call in den ended after 2 min 5 s``."""
        ident = data.get("call") if isinstance(data, dict) else None
        place = self.places.pop(ident, None) if isinstance(ident, int) else None
        if ident == self.mine:
            self.mine = None
        duration = spoken(data.get("duration_s") if isinstance(data, dict) else None)
        return f"* the call{f' in {place}' if place else ''} ended after {duration}"


class CallCommands:
    """``/call`` and ``/hangup`` over the REPL's connection and current conversation."""

    def __init__(self, conn: Connection, log: CallLog, here: Callable[[], str]) -> None:
        self.conn = conn
        self.log = log
        self.here = here

    def table(self) -> dict[str, Handler]:
        return {"call": self.call, "hangup": self.hangup}

    async def call(self, rest: str) -> None:
        media = rest.strip() or "audio"
        if media not in MEDIA:
            raise UsageError("/call [audio|video]")
        place = self.here()
        target = {"to": place[1:]} if place.startswith("@") else {"topic": place}
        data = await self.conn.call("call:start", {**target, "media": media})
        call = data.get("call") if isinstance(data, dict) else None
        if not isinstance(call, dict) or not isinstance(call.get("id"), int):
            out("the server answered no call")
            return
        self.log.mine = call["id"]
        others = [render.safe(name) for name in call.get("participants", []) if name != self._me()]
        company = f" with {', '.join(others)}" if others else ", waiting for the others"
        media_words = MEDIA.get(call.get("media", ""), "a call")
        out(f"in {media_words} in {self.log.learn(call)}{company} (no media here: /hangup to leave)")

    async def hangup(self, rest: str) -> None:
        if rest.strip():
            raise UsageError("/hangup")
        if self.log.mine is None:
            out("you are in no call")
            return
        mine, self.log.mine = self.log.mine, None
        await self.conn.call("call:leave", {"call": mine})
        out(f"left the call in {self.log.places.get(mine, '?')}")

    def _me(self) -> str | None:
        return self.conn.session.username if self.conn.session is not None else None
