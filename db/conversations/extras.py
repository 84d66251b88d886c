"""A message's conversation columns (PROTOCOL.md section 8) to and from ``Extras``.

Every query that reads messages selects ``EXTRAS_COLUMNS`` in this order and hands them to
``extras_of``; the JSON columns are small and written only here. A row with none of them set
(most messages) costs one tuple check and shares the ``PLAIN`` value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from db.conversations.records import PLAIN, Extras, Quote, ReactionState, ThreadSummary
from db.times import utc

EXTRAS_COLUMNS = (
    "reply_to",
    "thread_root_id",
    "thread_count",
    "thread_last_at",
    "thread_participants",
    "mentions",
    "mentions_all",
    "reactions",
    "pinned",
    "type",
    "system",
    "bot",
    "files",
    "links",
    "previews",
)
# What a plain message's columns read as (SQLite hands booleans back as 0 and 1).
_PLAIN_VALUES = {(None, None, 0, None, None, None, False, None, False, "text", None, False, None, None, None)}


def extras_of(values: Sequence[Any]) -> Extras:
    """``Extras`` from the ``EXTRAS_COLUMNS`` of one row, in that order."""
    if tuple(values) in _PLAIN_VALUES:
        return PLAIN
    (
        reply_to,
        root,
        count,
        last_at,
        participants,
        mentions,
        mentions_all,
        reactions,
        pinned,
        kind,
        system,
        bot,
        files,
        links,
        previews,
    ) = values
    thread = None
    if count:
        thread = ThreadSummary(int(count), utc(last_at), tuple(orjson.loads(participants or "[]")))
    return Extras(
        reply_to=Quote(**orjson.loads(reply_to)) if reply_to else None,
        thread_root_id=int(root) if root is not None else None,
        thread=thread,
        mentions=tuple(orjson.loads(mentions)) if mentions else (),
        mentions_all=bool(mentions_all),
        reactions=reactions_of(reactions),
        pinned=bool(pinned),
        type=str(kind or "text"),
        system=orjson.loads(system) if system else None,
        bot=bool(bot),
        files=tuple(orjson.loads(files)) if files else (),
        links=tuple(orjson.loads(links)) if links else (),
        previews=tuple(orjson.loads(previews)) if previews else (),
    )


def reactions_of(stored: str | None) -> tuple[ReactionState, ...]:
    if not stored:
        return ()
    return tuple(
        ReactionState(emoji, tuple((int(user_id), str(name)) for user_id, name in users))
        for emoji, users in orjson.loads(stored)
    )


def reactions_json(reactions: Sequence[ReactionState]) -> str | None:
    if not reactions:
        return None
    return orjson.dumps([[r.emoji, [list(user) for user in r.users]] for r in reactions]).decode()


def quote_json(quote: Quote | None) -> str | None:
    if quote is None:
        return None
    return orjson.dumps({"id": quote.id, "sender": quote.sender, "excerpt": quote.excerpt}).decode()


def names_json(names: Sequence[str]) -> str | None:
    return orjson.dumps(list(names)).decode() if names else None


def files_json(files: Sequence[dict[str, Any]]) -> str | None:
    return orjson.dumps(list(files)).decode() if files else None


def links_json(links: Sequence[str]) -> str | None:
    return orjson.dumps(list(links)).decode() if links else None


def previews_json(previews: Sequence[dict[str, Any]]) -> str | None:
    return orjson.dumps(list(previews)).decode() if previews else None


def system_json(system: dict[str, Any] | None) -> str | None:
    return orjson.dumps(system).decode() if system else None
