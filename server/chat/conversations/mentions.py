"""Mentions: which members a body names with ``@name``, and whether it says ``@all``.

PROTOCOL.md section 8: a ``@`` at the start or after a character that is not a name character,
then a name (section 3) ending at a non-name character, case-insensitively; only members of the
conversation count, in body order, once each, as registered. A name followed by a full stop or a
dash ("thanks @bob.") also counts as the name without them when no member has the longer one.
Parsed once per send and per edit; a body without ``@`` costs one ``in`` check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.chat.conversations.directory import Directory, UserInfo
from server.chat.kernel.errors import ChatError

MENTION = re.compile(r"(?<![A-Za-z0-9_.\-])@([A-Za-z0-9_.\-]+)")
MAX_NAMES = 50  # distinct names looked up per body: a body of 4000 characters cannot cost 800 lookups
EVERYONE = "all"


@dataclass(frozen=True, slots=True)
class Mentions:
    names: tuple[str, ...] = ()  # as registered, in body order
    user_ids: tuple[int, ...] = ()  # the same members but the sender: they get a mention row each
    everyone: bool = False  # ``@all``


NONE = Mentions()


def tokens(body: str) -> tuple[list[str], bool]:
    """The names after each ``@`` (distinct, in order, at most ``MAX_NAMES``) and whether ``@all`` is one."""
    if "@" not in body:
        return [], False
    names: list[str] = []
    seen: set[str] = set()
    everyone = False
    for match in MENTION.finditer(body):
        token = match.group(1)
        if token.rstrip(".-").lower() == EVERYONE:
            everyone = True
        elif token.lower() not in seen and len(seen) < MAX_NAMES:
            seen.add(token.lower())
            names.append(token)
    return names, everyone


async def find(directory: Directory, topic_id: int, sender_id: int, body: str) -> Mentions:
    names, everyone = tokens(body)
    if not names:
        return Mentions(everyone=everyone) if everyone else NONE
    found: list[UserInfo] = []
    for token in names:
        user = await _member(directory, topic_id, token)
        if user is None and (shorter := token.rstrip(".-")) != token:
            user = await _member(directory, topic_id, shorter)
        if user is not None and all(user.id != other.id for other in found):
            found.append(user)
    return Mentions(
        tuple(user.username for user in found),
        tuple(user.id for user in found if user.id != sender_id),
        everyone,
    )


async def _member(directory: Directory, topic_id: int, name: str) -> UserInfo | None:
    if not 3 <= len(name) <= 32:
        return None
    try:
        user = await directory.user(name)
    except ChatError:
        return None
    return user if await directory.is_member(topic_id, user.id) else None
