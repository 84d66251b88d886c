"""Reactions: one per user, message and emoji; pushed to the members as ``reaction:updated``.

PROTOCOL.md section 8. Who may react is who may post where the message is: a member (a public
topic wants a subscription first, ``forbidden``; a private topic or a conversation of others, or a
deleted message, is ``not_found``). Adding twice counts once and removing an absent reaction is a
no-op: both answer the current reactions and tell nobody. At most ``MAX_EMOJI`` distinct emoji
per message (``invalid``).

The message row keeps its reactions in order (``Extras.reactions``), beside the table's rows, so
that every rendering reads one row; the row is locked while it changes (PostgreSQL), so that
concurrent reactions apply one after the other. The change is noted as a fact (``ReactionActed``)
for the commit handlers: a topic's ``reaction`` webhooks get their outbox rows in the same
transaction (PROTOCOL.md section 12) without this module knowing them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from db.conversations.extras import reactions_json
from db.records import ReactionState
from db.uow import Database
from server.chat.conversations.directory import Directory
from server.chat.conversations.message_events import reactions_changed
from server.chat.conversations.messages import ERASED_NAME, place_for
from server.chat.conversations.schemas import ReactionsOut
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import invalid
from server.chat.kernel.facts import ReactionActed
from server.chat.kernel.views import reactions_view
from server.chat.rules.access import locate_message, not_member
from server.chat.rules.authority import Act, check, standing_of

MAX_EMOJI = 20


class ReactionService:
    def __init__(self, db: Database, directory: Directory) -> None:
        self.db = db
        self.directory = directory

    async def add(self, actor: Actor, message_id: int, emoji: str) -> ReactionsOut:
        return await self._change(actor, message_id, emoji, add=True)

    async def remove(self, actor: Actor, message_id: int, emoji: str) -> ReactionsOut:
        return await self._change(actor, message_id, emoji, add=False)

    async def _change(self, actor: Actor, message_id: int, emoji: str, add: bool) -> ReactionsOut:
        async with self.db.write() as repos:
            message, place = await locate_message(repos, actor, message_id, lock=True)
            membership = await repos.memberships.get(place.topic_id, actor.id)
            if membership is None:  # a public topic's message (locate_message hides the others')
                raise not_member(place.name, place.kind, "react")
            check(
                Act.REACT,
                standing_of(membership),
                kind=place.kind,
                archived=place.archived,
                where=repr(place.name),
            )
            before = message.extras.reactions
            after = _with(before, actor, emoji) if add else _without(before, actor.id, emoji)
            if after is before:
                return ReactionsOut(id=message_id, reactions=reactions_view(before, actor.id))
            if len(after) > MAX_EMOJI:
                raise invalid(f"a message takes at most {MAX_EMOJI} different emoji")
            now = datetime.now(UTC)
            if add:
                await repos.reactions.add(message_id, actor.id, emoji, now)
            else:
                await repos.reactions.remove(message_id, actor.id, emoji)
            await repos.messages.set_reactions(message_id, reactions_json(after))
            changed = replace(message, extras=replace(message.extras, reactions=after))
            repos.note(ReactionActed(changed, place, emoji, actor.username, add))
            members = await self.directory.members(place.topic_id)
            repos.record(*reactions_changed(place, actor, message_id, after, members))
        return ReactionsOut(id=message_id, reactions=reactions_view(after, actor.id))

    async def withdraw_all(self, user_id: int, limit: int) -> int:
        """An erasure's batch (PROTOCOL.md section 16): the user's reactions on up to ``limit``
        messages are withdrawn, told to each topic as ``reaction:updated``. The number of messages;
        0 once none is left."""
        actor = Actor(user_id, ERASED_NAME)
        async with self.db.write() as repos:
            ids = await repos.erasure.reacted(user_id, limit)
            for message_id in ids:
                await repos.erasure.withdraw_reactions(user_id, message_id)
                message = await repos.messages.by_id(message_id, lock=True)
                if message is None:
                    continue
                after = tuple(
                    ReactionState(state.emoji, users)
                    for state in message.extras.reactions
                    if (users := tuple(user for user in state.users if user[0] != user_id))
                )
                if after == message.extras.reactions:
                    continue
                await repos.messages.set_reactions(message_id, reactions_json(after))
                place = await place_for(repos, message.topic_id, user_id)
                if place is not None and message.deleted_at is None:
                    members = await self.directory.members(place.topic_id)
                    repos.record(*reactions_changed(place, actor, message_id, after, members))
        return len(ids)


def _with(reactions: tuple[ReactionState, ...], actor: Actor, emoji: str) -> tuple[ReactionState, ...]:
    """``reactions`` plus the actor's ``emoji`` (the same tuple when it is there already)."""
    for index, state in enumerate(reactions):
        if state.emoji == emoji:
            if any(user_id == actor.id for user_id, _ in state.users):
                return reactions
            grown = ReactionState(emoji, (*state.users, (actor.id, actor.username)))
            return (*reactions[:index], grown, *reactions[index + 1 :])
    return (*reactions, ReactionState(emoji, ((actor.id, actor.username),)))


def _without(reactions: tuple[ReactionState, ...], user_id: int, emoji: str) -> tuple[ReactionState, ...]:
    """``reactions`` less the user's ``emoji`` (the same tuple when it is not there)."""
    for index, state in enumerate(reactions):
        if state.emoji == emoji and any(user == user_id for user, _ in state.users):
            users = tuple(user for user in state.users if user[0] != user_id)
            rest = (ReactionState(emoji, users),) if users else ()
            return (*reactions[:index], *rest, *reactions[index + 1 :])
    return reactions
