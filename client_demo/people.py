"""People (PROTOCOL.md section 14) in the REPL: profiles, status, availability, the directory.

- ``/profile`` shows your profile, ``/profile USER`` someone's (``users:get``);
  ``/profile name TEXT``, ``/profile title TEXT``, ``/profile tz ZONE`` set a
  field (``profile:update``; without TEXT the field is cleared);
- ``/status TEXT [for MINUTES]`` (``status:set``, ``expires_in``), ``/status clear``;
- ``/away``, ``/dnd``, ``/auto`` (``availability:set``);
- ``/who QUERY`` (``users:search``): one line per match,
  ``Alice Liddell (@alice) — dnd — 🌴 On leave`` (``who_line``).

``Names`` is the cache of display names the message lines show next to a
sender (``Alice Liddell (@alice)``): filled by ``users:get`` for the senders
seen, kept current by ``user:updated`` and by the acks of our own changes.
``user:updated`` of someone else is shown as the changes that can be told
from what was known (``* alice is now "Alice Liddell" — status: On leave``);
our own is only remembered (the ack of our command said it already).
Every string from the server goes through ``controls`` before it is printed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from client_demo import render
from client_demo.connection import Connection
from client_demo.controls import one_line
from client_demo.errors import ClientError, UsageError
from client_demo.models import field_list
from client_demo.output import out

HELP = """\
  /profile [USER]             your profile, or USER's
  /profile name|title|tz TEXT set your display name, title or time zone (no TEXT: clear it)
  /status TEXT [for MINUTES]  set your status, for MINUTES if given | /status clear
  /away | /dnd | /auto        set your availability (/auto: from your activity)
  /who QUERY                  find people by username or display name"""

Handler = Callable[[str], Awaitable[None]]
FIELDS = {"name": "display_name", "title": "title", "tz": "timezone"}
WORDS = {"display_name": "display name", "title": "title", "timezone": "time zone"}
FOR_MINUTES = re.compile(r"^(?P<text>.*?)\s+for\s+(?P<minutes>\d+)$", re.DOTALL)
REMEMBERED = 10_000  # profiles kept
LOOKUP_TIMEOUT = 5.0  # a message waits this long at most for its sender's display name


def text(value: object) -> str:
    """A server string on one line with its control characters escaped ("" for anything else)."""
    return one_line(value) if isinstance(value, str) else ""


def is_profile(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("username"), str)


def named(username: str, display_name: object) -> str:
    """``Alice Liddell (@alice)``, or ``@alice`` without a display name."""
    name = text(display_name)
    return f"{name} (@{text(username)})" if name else f"@{text(username)}"


def status_text(status: Any) -> str:
    """``🌴 On leave (until 14:05)``; "" without a status."""
    if not isinstance(status, dict):
        return ""
    words = " ".join(p for p in (text(status.get("emoji")), text(status.get("text"))) if p)
    until = status.get("expires_at")
    return words + (f" (until {render.clock(until)})" if isinstance(until, str) else "")


def availability_text(profile: Any) -> str:
    value = profile.get("availability") if isinstance(profile, dict) else None
    return text(value) if isinstance(value, str) else "unknown"


def who_line(profile: Any) -> str:
    """``Alice Liddell (@alice) — dnd — 🌴 On leave``; a bot's name has ``[bot]``; no status, no part."""
    head = named(profile["username"], profile.get("display_name"))
    head += render.BOT if profile.get("bot") is True else ""
    parts = [head, availability_text(profile)]
    if status := status_text(profile.get("status")):
        parts.append(status)
    return " — ".join(parts)


def profile_lines(profile: Any) -> list[str]:
    """The header (``Alice Liddell (@alice)``) and the fields that are set, indented."""
    head = named(profile["username"], profile.get("display_name"))
    lines = [head + (render.BOT if profile.get("bot") is True else "")]
    fields = [
        ("title", text(profile.get("title"))),
        ("time zone", text(profile.get("timezone"))),
        ("status", status_text(profile.get("status"))),
        ("availability", availability_text(profile)),
    ]
    if profile.get("online") is False and isinstance(profile.get("last_seen"), str):
        fields.append(("last seen", render.clock(profile.get("last_seen"))))
    avatar = profile.get("avatar")
    if isinstance(avatar, dict):
        fields.append(("avatar", text(avatar.get("thumbnail_url") or avatar.get("url"))))
    if isinstance(profile.get("created_at"), str):
        fields.append(("joined", text(profile["created_at"][:10])))
    lines += [f"{render.INDENT}{key}: {value}" for key, value in fields if value]
    return lines


def changes(before: Any, after: Any) -> list[str]:
    """What changed between two profiles, in words (availability is the ``presence`` line's)."""
    old = before if isinstance(before, dict) else {}
    said: list[str] = []
    if (name := text(after.get("display_name"))) != text(old.get("display_name")):
        said.append(f'is now "{name}"' if name else "has no display name now")
    for key in ("title", "timezone"):
        if (value := text(after.get(key))) != text(old.get(key)):
            said.append(f"{WORDS[key]}: {value}" if value else f"{WORDS[key]} cleared")
    if (status := status_text(after.get("status"))) != status_text(old.get("status")):
        said.append(f"status: {status}" if status else "status cleared")
    if _avatar(after) != _avatar(old):
        said.append("new avatar" if _avatar(after) else "avatar removed")
    return said


def updated_line(username: str, said: list[str]) -> str:
    """``* alice is now "Alice Liddell" — status: On leave``; ``* alice — status cleared``."""
    first = f" {said[0]}" if said[0].startswith(("is now", "has no")) else f" — {said[0]}"
    return f"* {text(username)}{first}" + "".join(f" — {s}" for s in said[1:])


def _avatar(profile: dict[str, Any]) -> object:
    avatar = profile.get("avatar")
    return avatar.get("url") if isinstance(avatar, dict) else None


class Names:
    """The last profile known per username: display names for message lines, baselines for changes."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._profiles: dict[str, dict[str, Any]] = {}
        self._asked: set[str] = set()  # looked up (found or not): not asked again

    def display(self) -> dict[str, str]:
        """username -> display name, for those that have one."""
        return {u: p["display_name"] for u, p in self._profiles.items() if text(p.get("display_name"))}

    def remember(self, profile: Any) -> dict[str, Any] | None:
        """Keep ``profile``; the one known before, if any."""
        if not is_profile(profile):
            return None
        username = profile["username"]
        before = self._profiles.pop(username, None)
        self._profiles[username] = profile
        self._asked.add(username)
        if len(self._profiles) > REMEMBERED:
            del self._profiles[next(iter(self._profiles))]
        return before

    def known(self, username: str) -> bool:
        return username in self._asked

    async def learn(self, usernames: Iterable[str]) -> None:
        """``users:get`` for those not looked up yet; a failure only leaves them plain."""
        wanted = sorted({u for u in usernames if isinstance(u, str) and u not in self._asked})[:100]
        if not wanted:
            return
        self._asked.update(wanted)
        try:
            data = await self.conn.call("users:get", {"usernames": wanted}, timeout=LOOKUP_TIMEOUT)
        except ClientError:
            return
        for profile in field_list(data, "users"):
            self.remember(profile)

    def learn_members(self, members: list[Any]) -> None:
        """``topic:members`` entries carry ``display_name``: enough for message lines."""
        for member in members:
            if is_profile(member) and member["username"] not in self._profiles:
                self._profiles[member["username"]] = {
                    "username": member["username"],
                    "display_name": member.get("display_name"),
                }

    def updated(self, profile: Any, me: str | None) -> str | None:
        """A ``user:updated``: the line saying what changed (None: ours, or nothing to tell)."""
        if not is_profile(profile):
            return None
        before = self.remember(profile)
        if profile["username"] == me:
            return None
        said = changes(before, profile)
        return updated_line(profile["username"], said) if said else None


class PeopleCommands:
    def __init__(self, conn: Connection, names: Names) -> None:
        self.conn = conn
        self.names = names

    def table(self) -> dict[str, Handler]:
        return {
            "profile": self.profile,
            "status": self.status,
            "away": self._availability("away"),
            "dnd": self._availability("dnd"),
            "auto": self._availability("auto"),
            "who": self.who,
        }

    def _me(self) -> str:
        if self.conn.session is None:
            raise UsageError("not connected")
        return self.conn.session.username

    async def profile(self, rest: str) -> None:
        field, _, value = rest.partition(" ")
        if field in FIELDS:
            key = FIELDS[field]
            mine = await self._call("profile:update", {key: value.strip()})
            value = text(mine.get(key))
            out(f"your {WORDS[key]} is now {value}" if value else f"your {WORDS[key]} is cleared")
            return
        if value.strip():
            raise UsageError("/profile [USER] | /profile name|title|tz TEXT")
        username = (field or self._me()).removeprefix("@")
        data = await self.conn.call("users:get", {"usernames": [username]})
        found = [p for p in field_list(data, "users") if is_profile(p)]
        if not found:
            raise ClientError("not_found", f"no user named {username!r}")
        self.names.remember(found[0])
        for line in profile_lines(found[0]):
            out(line)

    async def status(self, rest: str) -> None:
        if not rest:
            raise UsageError("/status TEXT [for MINUTES] | /status clear")
        if rest == "clear":
            data = await self.conn.call("status:clear", {})
            self.names.remember(data)
            out("status cleared")
            return
        payload: dict[str, Any] = {"text": rest}
        if (match := FOR_MINUTES.match(rest)) is not None:
            payload = {"text": match["text"], "expires_in": int(match["minutes"]) * 60}
        mine = await self._call("status:set", payload)
        out(f"status: {status_text(mine.get('status'))}")

    def _availability(self, choice: str) -> Handler:
        async def handler(rest: str) -> None:
            if rest:
                raise UsageError(f"/{choice} takes nothing")
            mine = await self._call("availability:set", {"availability": choice})
            auto = " (automatic)" if choice == "auto" else ""
            out(f"availability: {availability_text(mine)}{auto}")

        return handler

    async def who(self, rest: str) -> None:
        if not rest:
            raise UsageError("/who QUERY")
        found = [p for p in field_list(await self.conn.call("users:search", {"q": rest}), "users")]
        users = [p for p in found if is_profile(p)]
        if not users:
            out(f"nobody matches {text(rest)}")
        for user in users:
            self.names.remember(user)
            out(who_line(user))

    async def _call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A call answering our own Profile: remembered (our messages show its name)."""
        data = await self.conn.call(event, payload)
        if not is_profile(data):
            raise ClientError("bad_reply", f"{event} did not answer a profile")
        self.names.remember(data)
        return dict(data)
