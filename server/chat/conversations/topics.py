"""Topics: create, subscribe, unsubscribe, invite, list, members, conversations.

Errors: ``rate_limited`` (past the topics or invites one user may create or send per hour),
``conflict`` (name exists, any case, whatever its kind, or is a
username: topic names and usernames are one namespace, PROTOCOL.md section 3),
``not_found`` (unknown topic or user, and a private topic for a non-member
everywhere, ``subscribe`` included: word for word the answer for a missing
one, PROTOCOL.md section 3), ``forbidden`` (the owner leaving a private
topic others are still in), ``invalid`` (a conversation with
oneself). Membership changes record ``MembershipChanged`` on the unit of
work, published after the commit, so the user's open sockets and the send
path's directory follow at once; an invite also tells the invitee.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import cast

from db.errors import Conflict
from db.uow import Database
from server.chat.accounts.words import fold
from server.chat.conversations.messages import MessageService
from server.chat.conversations.schemas import (
    MEMBERS_MATCHED,
    InvitedOut,
    MemberOut,
    MembersOut,
    Role,
    SubscribedOut,
    TopicsOut,
)
from server.chat.conversations.topic_counts import TopicCounts
from server.chat.conversations.topic_views import announced, topic_view, topic_views
from server.chat.kernel.actors import Actor
from server.chat.kernel.budgets import SharedLimit, per_hour
from server.chat.kernel.errors import cannot_message, conflict, forbidden, no_topic, not_found, rate_limited
from server.chat.kernel.events import MembershipChanged, TopicInvited, ToUser
from server.chat.kernel.facts import MemberActed
from server.chat.kernel.places import place_of_topic
from server.chat.kernel.schemas import Target, TopicOut
from server.chat.kernel.views import iso
from server.chat.people.service import PeopleService
from server.chat.people.views import availability_of, avatar_of
from server.chat.presence.service import PresenceService
from server.chat.rules.access import (
    free_name,
    locate,
    named_topic,
    open_direct,
    require_member,
    require_readable,
    user_named,
)
from server.chat.rules.authority import RANKS, standing_of

log = logging.getLogger("parley.topics")
SUBSCRIBE_HISTORY = 50


class TopicService:
    """Topics and their members.

    ``create_limit`` and ``invite_limit`` are the abuse limits of PROTOCOL.md section 2 (topics
    created and invites sent per user: ``rate_limited`` with ``retry_after`` past them). They are
    token buckets keyed by user id, like the sign-up and login limits (``budgets.py``): in this
    process's memory, and with several nodes in the cluster's budget too, so that they hold for
    the whole cluster. A refused call (a taken name, an unknown topic or user) gives its token
    back: only what was done is counted.
    """

    def __init__(
        self,
        db: Database,
        presence: PresenceService,
        messages: MessageService,
        create_limit: SharedLimit | None = None,
        invite_limit: SharedLimit | None = None,
        people: PeopleService | None = None,
    ) -> None:
        self.db = db
        self.presence = presence
        self.messages = messages
        self.create_limit = create_limit or per_hour("topics", 20)
        self.invite_limit = invite_limit or per_hour("invites", 30)
        self.people = people  # whose availability a member list may show (PROTOCOL.md section 14)
        self.counts = TopicCounts(presence.online_among)  # this node's, shared by every topic view

    async def create(self, actor: Actor, name: str, private: bool = False) -> TopicOut:
        async with _counted(self.create_limit, actor, "too many topics created; try later"):
            return await self._create(actor, name, private)

    async def create_for(
        self, owner: Actor, name: str, private: bool, noted: Sequence[object] = ()
    ) -> TopicOut:
        """A topic made for ``owner`` by a trusted caller (the server API, PROTOCOL.md section 17),
        whose own rate stands in for the owner's hourly count; ``noted``: the creation's facts (its
        audit row), in its transaction."""
        return await self._create(owner, name, private, noted)

    async def _create(self, actor: Actor, name: str, private: bool, noted: Sequence[object] = ()) -> TopicOut:
        now = datetime.now(UTC)
        kind = "private" if private else "public"
        try:
            async with self.db.write() as repos:
                repos.note(*noted)
                await free_name(repos, name)
                topic = await repos.topics.add(name, kind, now, owner_id=actor.id)
                await repos.memberships.add(topic, actor.id, "owner", now)
                repos.record(MembershipChanged(actor.id, topic.id, joined=True))
                view = await topic_view(repos, actor.id, topic, self.counts)
                if kind == "public":
                    repos.record(*announced(actor, view))  # topic:created, live on every node
        except Conflict as exc:
            raise conflict(f"a topic named {name!r} exists") from exc
        return view

    async def ensure_public(self, name: str) -> None:
        """Create an ownerless public topic if missing (the default topics).

        Every server does this at start-up, so two starting together on one database can both
        find it missing: the one whose insert loses on the unique name has nothing left to do.
        """
        try:
            async with self.db.write() as repos:
                await repos.names.claim(name)
                if await repos.names.user_holds(name):
                    log.warning("a default topic is not created: a user has its name", extra={"topic": name})
                    return
                if await repos.topics.by_name(name) is None:
                    await repos.topics.add(name, "public", datetime.now(UTC))
        except Conflict:
            async with self.db.read() as repos:
                if await repos.topics.by_name(name) is None:
                    raise  # not the race: some other constraint

    async def join(self, user_id: int, names: list[str]) -> None:
        """Make a user a member of the given public topics (new accounts)."""
        async with self.db.write() as repos:
            for name in names:
                topic = await repos.topics.by_name(name)
                if topic and topic.kind == "public" and not await repos.memberships.get(topic.id, user_id):
                    await repos.memberships.add(topic, user_id, "member", datetime.now(UTC))
                    repos.record(MembershipChanged(user_id, topic.id, joined=True))
                    repos.note(MemberActed(topic.id, topic.name, user_id, None, "joined"))

    async def subscribe(self, actor: Actor, name: str) -> SubscribedOut:
        blocked = await self.messages.directory.blocks.blocked_by(actor.id)  # not while holding one
        async with self.db.write() as repos:
            topic = await named_topic(repos, name)
            membership = await repos.memberships.get(topic.id, actor.id)
            if membership is None:
                if topic.kind != "public":
                    raise no_topic(name)  # a non-member learns nothing of a private topic
                if await repos.bans.active(topic.id, actor.id):
                    raise forbidden(f"you are banned from {topic.name!r}")
                await repos.memberships.add(topic, actor.id, "member", datetime.now(UTC))
                repos.record(MembershipChanged(actor.id, topic.id, joined=True))
                repos.note(MemberActed(topic.id, topic.name, actor.id, actor.username, "joined"))
            view = await topic_view(repos, actor.id, topic, self.counts)
            page = await self.messages.page_in(
                repos, place_of_topic(topic), None, SUBSCRIBE_HISTORY, actor.id, blocked
            )
        return SubscribedOut(topic=view, history=page.messages)

    async def unsubscribe(self, actor: Actor, name: str) -> None:
        async with self.db.write() as repos:
            topic = await named_topic(repos, name)
            membership = await repos.memberships.get(topic.id, actor.id)
            if membership is None:
                if topic.kind != "public":
                    raise no_topic(name)  # a non-member learns nothing of a private topic
                return
            if topic.kind == "private" and membership.role == "owner":
                if len(await repos.memberships.member_ids(topic.id)) > 1:
                    raise forbidden("the owner may not leave a private topic while others remain")
            await repos.memberships.remove(topic.id, actor.id)
            repos.record(MembershipChanged(actor.id, topic.id, joined=False))
            repos.note(MemberActed(topic.id, topic.name, actor.id, actor.username, "left"))

    async def invite(self, actor: Actor, name: str, username: str) -> InvitedOut:
        async with _counted(self.invite_limit, actor, "too many invites sent; try later"):
            return await self._invite(actor, name, username)

    async def _invite(self, actor: Actor, name: str, username: str) -> InvitedOut:
        async with self.db.write() as repos:
            topic = await named_topic(repos, name)
            await require_member(repos, place_of_topic(topic), actor, "invite")
            invitee = await user_named(repos, username)
            if await repos.blocks.exists(invitee.id, actor.id):  # PROTOCOL.md section 10
                raise cannot_message()
            if await repos.bans.active(topic.id, invitee.id):
                raise forbidden(f"{invitee.username!r} is banned from {topic.name!r}")
            if await repos.memberships.get(topic.id, invitee.id) is None:
                await repos.memberships.add(topic, invitee.id, "member", datetime.now(UTC))
                theirs = await topic_view(repos, invitee.id, topic, self.counts)
                repos.record(
                    MembershipChanged(invitee.id, topic.id, joined=True),
                    TopicInvited(theirs, actor.username, ToUser(invitee.id)),
                )
                repos.note(MemberActed(topic.id, topic.name, invitee.id, invitee.username, "joined"))
            view = await topic_view(repos, actor.id, topic, self.counts)
        return InvitedOut(topic=view)

    async def add_member(
        self, by: Actor, name: str, username: str, role: str = "member", noted: Sequence[object] = ()
    ) -> tuple[TopicOut, bool]:
        """Make ``username`` a member of the topic (public or private) for a trusted caller (the
        server API, PROTOCOL.md section 17), with no invitation and no membership of ``by``'s: the
        user's sockets join the room on every node and the user hears ``topic:invited`` from
        ``by``, as for an invite. An existing member gets ``role`` if it differs. The topic as the
        user sees it, and whether they were added; ``forbidden`` for a user banned from it."""
        async with self.db.write() as repos:
            topic = await named_topic(repos, name)
            user = await user_named(repos, username)
            if user.deleted_at is not None:
                raise not_found(f"no user named {username!r}")
            if await repos.bans.active(topic.id, user.id):
                raise forbidden(f"{user.username!r} is banned from {topic.name!r}")
            membership = await repos.memberships.get(topic.id, user.id)
            added = membership is None
            if membership is None:
                await repos.memberships.add(topic, user.id, role, datetime.now(UTC))
                theirs = await topic_view(repos, user.id, topic, self.counts)
                repos.record(
                    MembershipChanged(user.id, topic.id, joined=True),
                    TopicInvited(theirs, by.username, ToUser(user.id)),
                )
                repos.note(MemberActed(topic.id, topic.name, user.id, user.username, "joined"), *noted)
            elif membership.role != role and membership.role != "owner":
                await repos.memberships.set_role(topic.id, user.id, role)
                repos.note(*noted)
            return await topic_view(repos, user.id, topic, self.counts), added

    async def list(self, actor: Actor) -> TopicsOut:
        async with self.db.read() as repos:
            topics = await repos.topics.visible_to(actor.id)
            return TopicsOut(topics=await topic_views(repos, actor.id, topics, self.counts))

    async def get(self, actor: Actor, name: str) -> TopicOut:
        async with self.db.read() as repos:
            topic = await named_topic(repos, name)
            await require_readable(repos, place_of_topic(topic), actor)
            return await topic_view(repos, actor.id, topic, self.counts)

    async def notify(self, actor: Actor, target: Target, level: str) -> TopicOut:
        """The member's notification level for a topic or a direct conversation (PROTOCOL.md
        section 8): ``forbidden`` for a public topic not subscribed to, ``not_found`` for a private
        one not a member of and for a conversation not started."""
        async with self.db.write() as repos:
            found = await locate(repos, actor, target)
            if found is None:
                raise not_found(f"no conversation with {target.user!r} yet")
            await require_member(repos, found.place, actor, "set its notifications")
            await repos.memberships.set_notify(found.topic.id, actor.id, level)
            return await topic_view(repos, actor.id, found.topic, self.counts)

    async def members(
        self,
        actor: Actor,
        name: str,
        *,
        room: bool = False,
        query: str | None = None,
        limit: int | None = None,
    ) -> MembersOut:
        """The topic's members. Presence only where section 4's rule lets the viewer see it:
        ``online`` false (section 3 makes it a bool) and ``availability`` null for the rest, as a
        profile shows them. ``room``: the rooms dialect's ``connect_to_room``, whose contract
        (PROTOCOL.md section 7) is the list of users connected to a public room, so ``online`` is
        every member's there (``availability`` still follows the rule).

        ``query`` (Parley's addition): only the members with a word of their username or display
        name starting with it, case and accents aside, whole names first, then by username
        (``users:search``'s rule and index), at most ``limit`` (``MEMBERS_MATCHED`` by default).
        ``limit`` alone: the first members to have joined."""
        prefix = fold(query.strip()) if query is not None else None
        if query is not None and limit is None:
            limit = MEMBERS_MATCHED
        async with self.db.read() as repos:
            topic = await named_topic(repos, name)
            await require_readable(repos, place_of_topic(topic), actor)
            if prefix == "":
                return MembersOut(members=[])
            rows = await repos.memberships.members(topic.id, prefix=prefix, limit=limit)
            if limit is None:
                member = any(user.id == actor.id for user, _ in rows)
            else:
                member = await repos.memberships.get(topic.id, actor.id) is not None
        seen_by = await self.people.seen_by(actor.id) if self.people is not None else set()
        seen_by.add(actor.id)
        shown = (user.id for user, _ in rows if room or user.id in seen_by)
        online = await self.presence.online_among(shown)
        now = datetime.now(UTC)
        members = []
        for user, membership in rows:
            standing = standing_of(membership)
            muted = standing.is_muted(now)
            members.append(
                MemberOut(
                    username=user.username,
                    role=cast(Role, membership.role if membership.role in RANKS else "member"),
                    online=user.id in online,
                    display_name=user.display_name,
                    avatar=avatar_of(user.avatar_file_id),
                    availability=availability_of(user, user.id in online) if user.id in seen_by else None,
                    muted=muted,
                    muted_until=iso(standing.muted_until) if muted else None,
                    read_seq=membership.read_seq if member else None,
                )
            )
        return MembersOut(members=members)

    async def open_conversation(self, actor: Actor, username: str) -> TopicOut:
        """Open (idempotently) the direct conversation with ``username``."""
        topic, _place = await open_direct(self.db, actor, username)
        async with self.db.read() as repos:
            return await topic_view(repos, actor.id, topic, self.counts)

    async def conversations(self, actor: Actor) -> TopicsOut:
        listed = await self.list(actor)
        return TopicsOut(topics=[t for t in listed.topics if t.kind == "direct"])


@contextlib.asynccontextmanager
async def _counted(limit: SharedLimit, actor: Actor, refusal: str) -> AsyncIterator[None]:
    """Take one of the actor's tokens for the block (``rate_limited`` if none is left); give it
    back if the block raises."""
    key = str(actor.id)
    wait = await limit.take(key)
    if wait > 0:
        raise rate_limited(refusal, wait)
    try:
        yield
    except BaseException:
        await limit.give_back(key)
        raise
