"""Notifications (PROTOCOL.md section 15) in the REPL: ``/notify`` shows and changes the
preferences that decide what reaches you while no client of yours is open.

- ``/notify`` shows them (``notifications:get``): push, email with the address and whether it is
  verified, the digest interval, quiet hours;
- ``/notify push on|off``, ``/notify email on|off``, ``/notify digest MINUTES`` (15-1440),
  ``/notify quiet HH:MM-HH:MM`` or ``/notify quiet off`` change one (``notifications:set``);
- ``/notify address EMAIL`` gives the address digests go to (``PUT /api/users/me/email``): the
  server mails a link to verify it, and only a verified address gets mail;
- ``/notify all|mentions|none`` is the older form, kept: what the current conversation may notify
  you of (section 8's ``topic:notify``), handed to the conversation commands.

A terminal cannot receive Web Push: the web page subscribes a browser; the demo only says whether
push is on for your account.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from client_demo import api
from client_demo.connection import Connection
from client_demo.controls import one_line
from client_demo.errors import UsageError
from client_demo.output import out

HELP = """\
  /notify                     your notification settings (push, email, digest, quiet hours)
  /notify push|email on|off   turn Web Push or email digests on or off
  /notify digest MINUTES      at most one email digest per MINUTES (15-1440)
  /notify quiet HH:MM-HH:MM   no notifications in these hours (your time zone) | /notify quiet off
  /notify address EMAIL       where digests go (a link is mailed to verify it)
  /notify all|mentions|none   what the current conversation may notify you of"""

USAGE = (
    "/notify all|mentions|none | [push|email on|off | digest MINUTES | quiet HH:MM-HH:MM|off | address EMAIL]"
)
LEVELS = ("all", "mentions", "none")
Handler = Callable[[str], Awaitable[None]]
QUIET = re.compile(r"^(\d\d:\d\d)\s*-\s*(\d\d:\d\d)$")
SWITCH = {"on": True, "off": False}


def _on(value: object) -> str:
    return "on" if value is True else "off"


def email_text(prefs: dict[str, Any]) -> str:
    """``on — alice@example.com (verified)``; says why nothing is sent when nothing can be."""
    if prefs.get("email_available") is False:
        return "not available (the server has no mail settings)"
    address = prefs.get("email_address")
    if not isinstance(address, str) or not address:
        return f"{_on(prefs.get('email'))} — no address (/notify address EMAIL)"
    state = "verified" if prefs.get("email_verified") is True else "not verified: see the mail we sent"
    return f"{_on(prefs.get('email'))} — {one_line(address)} ({state})"


def quiet_text(quiet: object) -> str:
    if isinstance(quiet, dict) and isinstance(quiet.get("from"), str) and isinstance(quiet.get("to"), str):
        return f"{one_line(quiet['from'])}-{one_line(quiet['to'])}"
    return "none"


def prefs_lines(prefs: Any) -> list[str]:
    """The settings, one per line."""
    if not isinstance(prefs, dict):
        return ["notifications: (no answer)"]
    minutes = prefs.get("email_digest_minutes")
    return [
        f"push: {_on(prefs.get('push'))}",
        f"email: {email_text(prefs)}",
        f"digest: at most every {minutes} minutes" if isinstance(minutes, int) else "digest: ?",
        f"quiet hours: {quiet_text(prefs.get('quiet_hours'))}",
    ]


def change_of(rest: str) -> dict[str, Any]:
    """The ``notifications:set`` payload a ``/notify`` line asks for (``UsageError`` if none)."""
    what, _, value = rest.partition(" ")
    value = value.strip()
    if what in ("push", "email") and value in SWITCH:
        return {what: SWITCH[value]}
    if what == "digest" and value.isdigit():
        return {"email_digest_minutes": int(value)}
    if what == "quiet":
        if value == "off":
            return {"quiet_hours": None}
        if (match := QUIET.match(value)) is not None:
            return {"quiet_hours": {"from": match[1], "to": match[2]}}
    raise UsageError(USAGE)


class NotifyCommands:
    """``/notify``: the account's preferences, or a conversation's level through ``level``."""

    def __init__(self, conn: Connection, level: Handler) -> None:
        self.conn = conn
        self.level = level

    def table(self) -> dict[str, Handler]:
        return {"notify": self.notify}

    async def notify(self, rest: str) -> None:
        rest = rest.strip()
        if rest.lower() in LEVELS:
            await self.level(rest)
            return
        if not rest:
            prefs = await self.conn.call("notifications:get", {})
        elif rest.startswith("address"):
            address = rest.removeprefix("address").strip()
            if not address:
                raise UsageError("/notify address EMAIL")
            await api.call(self.conn.url, "PUT", "/api/users/me/email", self.conn.token, {"email": address})
            out(f"a link to verify {one_line(address)} was mailed to it")
            prefs = await self.conn.call("notifications:get", {})
        else:
            prefs = await self.conn.call("notifications:set", change_of(rest))
        for line in prefs_lines(prefs):
            out(line)
