"""Rows to DTOs: one place that renders times, names and direct conversations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, cast

from db.records import PLAIN, PLAIN_BOT, BacklogEntry, Extras, MessageRecord, ReactionState, ThreadSummary
from server.chat.kernel.schemas import MessageOut, PreviewOut, QuoteOut, ReactionOut, ThreadSummaryOut

Kind = Literal["public", "private", "direct"]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a ``Z``; SQLite hands back naive datetimes that are UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_required(moment: datetime) -> str:
    return cast(str, iso(moment))


def direct_name(user_a: int, user_b: int) -> str:
    """Stored name of a direct conversation; ':' can never appear in a topic name."""
    low, high = sorted((user_a, user_b))
    return f"dm:{low}:{high}"


def direct_ids(name: str) -> tuple[int, int]:
    """The two members' ids, read from a direct conversation's stored name (``direct_name``)."""
    low, high = (int(part) for part in name.split(":")[1:3])
    return low, high


def direct_peer(name: str, user_id: int) -> int:
    """The other member's id, read from a direct conversation's stored name (``direct_name``)."""
    low, high = direct_ids(name)
    return high if low == user_id else low


def message_out(
    kind: str,
    shown_as: str,
    message_id: int,
    seq: int,
    sender: str,
    body: str,
    created_at: datetime,
    edited_at: datetime | None,
    client_id: str | None,
    deleted: bool = False,
    extras: Extras = PLAIN,
    viewer: int | None = None,
    blocked: bool = False,
) -> MessageOut:
    """The one way a message becomes what a client sees: in a topic of ``kind`` named ``shown_as``
    (``@other`` for a direct conversation), times in ISO 8601 UTC, a deleted one's body empty and
    without reactions or mentions, each reaction's ``me`` as user ``viewer`` sees it, ``blocked``
    when that viewer blocked the sender (PROTOCOL.md section 10). ``message_view`` (a stored
    message), ``backlog_view`` and the writer (a new one) call it; a plain message (most of them)
    sets only the fields of section 3."""
    base: dict[str, Any] = {
        "id": message_id,
        "topic": shown_as,
        "kind": cast(Kind, kind),
        "seq": seq,
        "sender": sender,
        "body": "" if deleted else body,
        "created_at": iso_required(created_at),
        "edited_at": iso(edited_at),
        "client_id": client_id,
        "deleted": deleted,
    }
    if extras is PLAIN or extras is PLAIN_BOT or (extras.links and _only_links(extras)):
        links = [] if deleted else list(extras.links)
        out = MessageOut(**base, blocked=blocked, bot=extras.bot, links=links)
        # Its JSON form as ``MessageOut.wire`` would make it, in the model's field order (that
        # cached property finds it here): a plain message's fields need no conversion, and most
        # messages are plain (model_dump cost more than the rest of this function).
        out.__dict__["wire"] = {
            **base,
            "reply_to": None,
            "thread": None,
            "thread_summary": None,
            "reactions": [],
            "mentions": [],
            "mentions_all": False,
            "pinned": False,
            "files": [],
            "links": links,
            "previews": [],
            "type": "text",
            "system": None,
            "blocked": blocked,
            "bot": extras.bot,
        }
        return out
    quote = extras.reply_to
    return MessageOut(
        **base,
        blocked=blocked,
        bot=extras.bot,
        reply_to=None if quote is None else QuoteOut(id=quote.id, sender=quote.sender, excerpt=quote.excerpt),
        thread=extras.thread_root_id,
        thread_summary=summary_view(extras.thread),
        reactions=[] if deleted else reactions_view(extras.reactions, viewer),
        mentions=[] if deleted else list(extras.mentions),
        mentions_all=extras.mentions_all and not deleted,
        pinned=extras.pinned and not deleted,
        type="system" if extras.type == "system" else "text",
        system=extras.system,
        files=[] if deleted else list(extras.files),
        links=[] if deleted else list(extras.links),
        previews=[] if deleted else [PreviewOut.model_validate(p) for p in extras.previews],
    )


def _only_links(extras: Extras) -> bool:
    """A new message with links and nothing else of section 8 (its previews come later; it may be a
    bot's): it takes the plain message's quick rendering, with its ``links``."""
    return (
        extras.reply_to is None
        and extras.thread_root_id is None
        and extras.thread is None
        and not extras.mentions
        and not extras.mentions_all
        and not extras.reactions
        and not extras.pinned
        and extras.type == "text"
        and not extras.files
        and not extras.previews
    )


def summary_view(thread: ThreadSummary | None) -> ThreadSummaryOut | None:
    if thread is None or thread.count == 0:
        return None
    return ThreadSummaryOut(
        count=thread.count, last_at=iso(thread.last_at), participants=list(thread.participants)
    )


REACTION_NAMES = 10  # a reaction names at most this many users (the first to react)


def reactions_view(reactions: tuple[ReactionState, ...], viewer: int | None) -> list[ReactionOut]:
    return [
        ReactionOut(
            emoji=reaction.emoji,
            count=len(reaction.users),
            users=[name for _, name in reaction.users[:REACTION_NAMES]],
            me=viewer is not None and any(user_id == viewer for user_id, _ in reaction.users),
        )
        for reaction in reactions
    ]


def message_view(
    message: MessageRecord,
    sender: str,
    kind: str,
    shown_as: str,
    viewer: int | None = None,
    blocked: bool = False,
) -> MessageOut:
    """A stored message, as ``message_out`` says (``me`` of its reactions as ``viewer`` sees them,
    ``blocked`` when the viewer blocked its sender)."""
    return message_out(
        kind,
        shown_as,
        message.id,
        message.seq,
        sender,
        message.body,
        message.created_at,
        message.edited_at,
        message.client_id,
        message.deleted_at is not None,
        message.extras,
        viewer,
        blocked,
    )


def backlog_view(entry: BacklogEntry, viewer: int | None = None) -> MessageOut:
    """A backlog message as its recipient ``viewer`` sees it (``@other`` for a direct one; never
    deleted)."""
    return message_out(
        entry.topic_kind,
        f"@{entry.peer}" if entry.peer is not None else entry.topic_name,
        entry.id,
        entry.seq,
        entry.sender,
        entry.body,
        entry.created_at,
        entry.edited_at,
        entry.client_id,
        False,
        entry.extras,
        viewer,
        entry.blocked,
    )
