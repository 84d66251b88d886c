"""Facts: what happened in a transaction, told to the unit of work's commit handlers only.

An event (``events.py``) is news for the hub: it crosses nodes and reaches clients. A fact is
noted on the repositories (``repos.note``) for the handlers that run just before the commit
(``Database.before_commit``), in the same transaction, and is never published. It carries what a
side effect needs and the news does not: the outgoing webhooks' ``member`` event needs the
action (a kick is not a leave) and the names, their ``reaction`` event the message as it now is.
The capability that makes the change notes the fact; the integration that acts on it registers a
handler. Neither imports the other (DESIGN.md, "integrations listen").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from db.records import MessageRecord
from server.chat.kernel.actors import Doer
from server.chat.kernel.places import Place

MemberAction = Literal["joined", "left", "kicked", "banned"]


@dataclass(frozen=True)
class MemberActed:
    """A user joined, left, was kicked from or banned from a topic (PROTOCOL.md section 12's
    ``member`` event). ``username`` is None when the change did not read it (a new account
    joining the default topics): a handler that needs it reads it."""

    topic_id: int
    topic: str
    user_id: int
    username: str | None
    action: MemberAction


@dataclass(frozen=True)
class ReactionActed:
    """Someone added or removed a reaction: ``message`` as it is after the change."""

    message: MessageRecord
    place: Place
    emoji: str
    username: str
    added: bool


@dataclass(frozen=True)
class Acted:
    """Someone did something an operator may later ask about (PROTOCOL.md section 16): a
    moderation action, a change of a bot, hook or webhook, an operator's command. ``action`` is a
    dotted name (``topic.kick``, ``bot.create``; the list is in docs/PROTOCOL.md), ``target`` what
    it was done to (a username, a message id, a hook id), ``topic`` where (its name then), and
    ``details`` the rest worth keeping (never a secret, a password or a report's text). Noted in
    the action's transaction: if the action fails, the fact goes with its rollback."""

    by: Doer
    action: str
    target: str | None = None
    topic: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
