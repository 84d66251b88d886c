"""Moderation (PROTOCOL.md section 10): roles, kick, ban, mute, topic updates and archives.

Each action is authorised by the one rule (``authority.check``: ranks, archive, mute), changes
the topic's state in one transaction, and is then told in the topic's log as a system message
(``type: "system"``, a ``seq``, delivered, replayed, never unread) through the send path. A
kicked or banned member leaves the topic's room on every node at once (``MembershipChanged``)
and gets ``topic:removed``; the system message that follows does not reach them. A ban or a
mute with ``minutes`` ends by itself: it is checked at use against its stored end, so it ends
on time across restarts and on every node.

The state change and its system message are two commits: a crash between them keeps the change
and loses its line in the log (the change is what must hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from db.errors import Conflict
from db.records import Extras, TopicRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.conversations.messages import MessageService
from server.chat.conversations.topic_counts import TopicCounts
from server.chat.conversations.topic_views import topic_view
from server.chat.conversations.writer import Destination
from server.chat.kernel.actors import Actor, Doer
from server.chat.kernel.errors import conflict, invalid, not_found
from server.chat.kernel.events import (
    MembershipChanged,
    MuteChanged,
    TopicRemoved,
    TopicRenamed,
    TopicUpdated,
    ToTopic,
    ToUser,
)
from server.chat.kernel.facts import Acted, MemberActed
from server.chat.kernel.places import Place, place_of_topic
from server.chat.kernel.schemas import TopicOut
from server.chat.kernel.views import iso, iso_required
from server.chat.moderation.schemas import UNCHANGED, BanOut, BansOut, Unchanged
from server.chat.rules.access import free_name, named_topic, require_member, user_named
from server.chat.rules.authority import MEMBER, Act, Standing, check, standing_of
from server.chat.rules.workspace import Roles

ROLE_NAMES = {"admin": "an admin", "moderator": "a moderator", "member": "a member"}


class ModerationService:
    def __init__(
        self,
        db: Database,
        messages: MessageService,
        counts: TopicCounts,
        retention_cap: int | None = None,
        roles: Roles | None = None,
    ) -> None:
        self.db = db
        # The workspace's owners and admins act as a topic's admin in every public topic
        # (PROTOCOL.md section 19); by default, the send path's (the directory's).
        self.roles = roles or messages.directory.roles
        self.retention_cap = retention_cap  # PARLEY_RETENTION_DAYS: a topic may only keep less
        self.messages = messages
        self.counts = counts  # the topic views' counts, shared with the topics' service

    async def role(self, actor: Actor, topic: str, username: str, role: str) -> None:
        async with self.db.write() as repos:
            found, place, mine = await self._acting(repos, actor, topic)
            target = await user_named(repos, username)
            theirs = self._in(found, target.id, await _member(repos, found, target.id, username))
            check(Act.ROLE, mine, kind=found.kind, target=theirs, new_role=role, where=repr(found.name))
            if theirs.role == role:
                return
            await repos.memberships.set_role(found.id, target.id, role)
            _audit(repos, actor, "topic.role", found, target.username, role=role, was=theirs.role)
        sentence = f"{actor.username} made {target.username} {ROLE_NAMES[role]}"
        await self._tell(actor, place, sentence, "role", target=target.username, role=role)

    async def kick(self, actor: Actor, topic: str, username: str, reason: str | None) -> None:
        async with self.db.write() as repos:
            found, place, mine = await self._acting(repos, actor, topic)
            target = await user_named(repos, username)
            theirs = self._in(found, target.id, await _member(repos, found, target.id, username))
            check(Act.KICK, mine, kind=found.kind, target=theirs, where=repr(found.name))
            _remove(repos, found, target.id, reason)
            await repos.memberships.remove(found.id, target.id)
            repos.note(MemberActed(found.id, found.name, target.id, target.username, "kicked"))
            _audit(repos, actor, "topic.kick", found, target.username, reason=reason)
        sentence = f"{actor.username} removed {target.username}" + _because(reason)
        await self._tell(actor, place, sentence, "kick", target=target.username, reason=reason)

    async def remove_member(self, by: Actor, topic: str, username: str, noted: Sequence[object] = ()) -> bool:
        """Remove ``username`` from the topic for a trusted caller (the server API, PROTOCOL.md
        section 17), whatever ``by``'s rank there: the same events as a kick (the sockets leave
        the room on every node, ``topic:removed``, the system message ``by`` signs). False when
        the user was no member (nothing changes)."""
        async with self.db.write() as repos:
            found = await named_topic(repos, topic)
            target = await user_named(repos, username)
            if await repos.memberships.get(found.id, target.id) is None:
                return False
            _remove(repos, found, target.id, None)
            await repos.memberships.remove(found.id, target.id)
            repos.note(MemberActed(found.id, found.name, target.id, target.username, "kicked"), *noted)
        place = place_of_topic(found)
        await self._tell(
            by, place, f"{by.username} removed {target.username}", "kick", target=target.username
        )
        return True

    async def ban(
        self, actor: Actor, topic: str, username: str, reason: str | None, minutes: int | None
    ) -> None:
        now = datetime.now(UTC)
        until = now + timedelta(minutes=minutes) if minutes else None
        async with self.db.write() as repos:
            found, place, mine = await self._acting(repos, actor, topic)
            target = await user_named(repos, username)
            membership = await repos.memberships.get(found.id, target.id)
            theirs = self._in(found, target.id, MEMBER if membership is None else standing_of(membership))
            check(Act.BAN, mine, kind=found.kind, target=theirs, where=repr(found.name))
            await repos.bans.put(found.id, target.id, actor.id, reason, now, until)
            if membership is not None:
                _remove(repos, found, target.id, reason, banned=True, until=iso(until))
                await repos.memberships.remove(found.id, target.id)
            repos.note(MemberActed(found.id, found.name, target.id, target.username, "banned"))
            _audit(repos, actor, "topic.ban", found, target.username, reason=reason, until=iso(until))
        sentence = f"{actor.username} banned {target.username}" + _for(minutes) + _because(reason)
        await self._tell(
            actor, place, sentence, "ban", target=target.username, reason=reason, until=iso(until)
        )

    async def unban(self, actor: Actor, topic: str, username: str) -> None:
        async with self.db.write() as repos:
            found, place, mine = await self._acting(repos, actor, topic)
            target = await user_named(repos, username)
            membership = await repos.memberships.get(found.id, target.id)
            theirs = self._in(found, target.id, MEMBER if membership is None else standing_of(membership))
            check(Act.UNBAN, mine, kind=found.kind, target=theirs, where=repr(found.name))
            if not await repos.bans.lift(found.id, target.id):
                return
            _audit(repos, actor, "topic.unban", found, target.username)
        await self._tell(
            actor, place, f"{actor.username} unbanned {target.username}", "unban", target=target.username
        )

    async def bans(self, actor: Actor, topic: str) -> BansOut:
        """The topic's bans in force (Parley's ``topic:bans``), for those who may lift them."""
        async with self.db.read() as repos:
            found, _place, mine = await self._acting(repos, actor, topic)
            check(Act.UNBAN, mine, kind=found.kind, where=repr(found.name))
            bans = await repos.bans.of_topic(found.id, datetime.now(UTC))
            names = {
                u.id: u.username
                for u in await repos.users.by_ids({b.user_id for b in bans} | {b.by for b in bans})
            }
        return BansOut(
            bans=[
                BanOut(
                    username=names[ban.user_id],
                    by=names.get(ban.by),
                    reason=ban.reason,
                    at=iso_required(ban.at),
                    until=iso(ban.until),
                )
                for ban in bans
                if ban.user_id in names  # a ban outlives an erased account's row: not listed
            ]
        )

    async def mute(
        self, actor: Actor, topic: str, username: str, minutes: int | None, muted: bool = True
    ) -> None:
        now = datetime.now(UTC)
        until = now + timedelta(minutes=minutes) if muted and minutes else None
        action = Act.MUTE if muted else Act.UNMUTE
        async with self.db.write() as repos:
            found, place, mine = await self._acting(repos, actor, topic)
            target = await user_named(repos, username)
            theirs = self._in(found, target.id, await _member(repos, found, target.id, username))
            check(action, mine, kind=found.kind, target=theirs, where=repr(found.name))
            if not muted and not theirs.is_muted(now):
                return
            await repos.memberships.set_mute(found.id, target.id, now if muted else None, until)
            repos.record(MuteChanged(found.id, target.id, muted, iso(until)))
            _audit(repos, actor, f"topic.{action.value}", found, target.username, until=iso(until))
        verb = "muted" if muted else "unmuted"
        sentence = f"{actor.username} {verb} {target.username}" + (_for(minutes) if muted else "")
        await self._tell(actor, place, sentence, action.value, target=target.username, until=iso(until))

    async def unmute(self, actor: Actor, topic: str, username: str) -> None:
        await self.mute(actor, topic, username, None, muted=False)

    async def update(
        self,
        actor: Actor,
        topic: str,
        name: str | None,
        description: str | None,
        retention_days: int | Unchanged | None = UNCHANGED,
    ) -> TopicOut:
        """Rename (the old name stops resolving at once; members get ``topic:renamed``), describe
        and/or set the topic's retention (PROTOCOL.md section 16; None: back to the server's).
        ``conflict`` when another topic or a user has the new name; ``invalid`` for a retention
        longer than the server's ``PARLEY_RETENTION_DAYS``."""
        self._check_retention(retention_days)
        try:
            async with self.db.write() as repos:
                if name is not None:
                    await repos.names.claim(name)  # first: the transaction writes before it reads
                found, place, mine = await self._acting(repos, actor, topic)
                check(Act.UPDATE, mine, kind=found.kind, where=repr(found.name))
                changes: dict[str, Any] = {}
                if name is not None and name != found.name:
                    await free_name(repos, name, keep=found)
                    await repos.topics.rename(found.id, name)
                    repos.record(TopicRenamed(found.id, found.name, name, ToTopic(found.id)))
                    changes["name"] = name
                if description is not None and description != found.description:
                    await repos.topics.describe(found.id, description)
                    repos.record(TopicUpdated(found.id, found.name))
                    changes["description"] = description
                if retention_days is not UNCHANGED and retention_days != found.retention_days:
                    await repos.topics.keep_for(found.id, retention_days)
                    repos.record(TopicUpdated(found.id, found.name))
                    changes["retention_days"] = retention_days
                if changes:
                    _audit(repos, actor, "topic.update", found, None, **changes)
        except Conflict as exc:  # another rename or create took the name meanwhile
            raise conflict(f"a topic named {name!r} exists") from exc
        if changes:
            place = (
                place_of_topic(found)
                if "name" not in changes
                else Place(
                    found.id, changes["name"], found.kind, owner_id=found.owner_id, archived=place.archived
                )
            )
            await self._tell(actor, place, _updated(actor, changes), "update", **changes)
        return await self._view(actor, found.id)

    def _check_retention(self, days: int | Unchanged | None) -> None:
        if isinstance(days, int) and self.retention_cap is not None and days > self.retention_cap:
            raise invalid(f"a topic's retention is at most the server's {self.retention_cap} days")

    async def archive(self, actor: Actor, topic: str, archived: bool = True) -> TopicOut:
        action = Act.ARCHIVE if archived else Act.UNARCHIVE
        async with self.db.write() as repos:
            found, place, mine = await self._acting(repos, actor, topic)
            check(action, mine, kind=found.kind, where=repr(found.name))
            changed = (found.archived_at is not None) != archived
            if changed:
                await repos.topics.archive(found.id, datetime.now(UTC) if archived else None)
                repos.record(TopicUpdated(found.id, found.name))
                _audit(repos, actor, f"topic.{action.value}", found, None)
        if changed:
            verb = "archived" if archived else "unarchived"
            await self._tell(actor, place, f"{actor.username} {verb} the topic", action.value)
        return await self._view(actor, found.id)

    async def unarchive(self, actor: Actor, topic: str) -> TopicOut:
        return await self.archive(actor, topic, archived=False)

    async def _acting(
        self, repos: Repositories, actor: Actor, topic: str
    ) -> tuple[TopicRecord, Place, Standing]:
        """The topic, its place and the actor's standing in it (a member, or refused as one; in a
        public topic, a workspace owner or admin acts as its admin, member or not)."""
        found = await named_topic(repos, topic)
        place = place_of_topic(found)
        if self.roles.acts_in(actor.id, found.kind):
            membership = await repos.memberships.get(found.id, actor.id)
            mine = MEMBER if membership is None else standing_of(membership)
        else:
            mine = standing_of(await require_member(repos, place, actor, "moderate it"))
        return found, place, self._in(found, actor.id, mine)

    def _in(self, topic: TopicRecord, user_id: int, standing: Standing) -> Standing:
        """``user_id``'s ``standing`` in ``topic``, raised for a workspace owner or admin."""
        return self.roles.standing(standing, user_id, topic.kind)

    async def _tell(self, actor: Actor, place: Place, body: str, action: str, **details: Any) -> None:
        """The action's system message in the topic's log (stored and delivered like a message)."""
        system = {
            "action": action,
            "actor": actor.username,
            **{k: v for k, v in details.items() if v is not None},
        }
        destination = Destination(place, Extras(type="system", system=system))

        async def resolve() -> Destination:
            return destination

        await self.messages.writer.submit(actor, resolve, body, None)

    async def _view(self, actor: Actor, topic_id: int) -> TopicOut:
        async with self.db.read() as repos:
            found = await repos.topics.by_id(topic_id)
            assert found is not None, "a topic is only deleted by an operator"
            return await topic_view(repos, actor.id, found, self.counts)


async def _member(repos: Repositories, topic: TopicRecord, user_id: int, username: str) -> Standing:
    membership = await repos.memberships.get(topic.id, user_id)
    if membership is None:
        raise not_found(f"{username!r} is not a member of {topic.name!r}")
    return standing_of(membership)


def _remove(
    repos: Repositories,
    topic: TopicRecord,
    user_id: int,
    reason: str | None,
    *,
    banned: bool = False,
    until: str | None = None,
) -> None:
    """The member's sockets leave the room (every node), then are told why (and, banned, until when)."""
    repos.record(
        MembershipChanged(user_id, topic.id, joined=False),
        TopicRemoved(topic.name, reason, ToUser(user_id), banned, until),
    )


def _audit(
    repos: Repositories, actor: Actor, action: str, topic: TopicRecord, target: str | None, **details: Any
) -> None:
    """The action's audit row (PROTOCOL.md section 16), in its transaction; the topic's name as it
    was before the action (a rename's new name is in ``details``), empty details left out."""
    kept = {key: value for key, value in details.items() if value is not None}
    repos.note(Acted(Doer.of(actor), action, target, topic.name, kept))


def _because(reason: str | None) -> str:
    return f" ({reason})" if reason else ""


def _for(minutes: int | None) -> str:
    return f" for {minutes} minute{'s' if minutes != 1 else ''}" if minutes else ""


def _updated(actor: Actor, changes: dict[str, Any]) -> str:
    parts = []
    if "name" in changes:
        parts.append(f"renamed the topic to {changes['name']}")
    if "description" in changes:
        parts.append("changed the description")
    if "retention_days" in changes:
        days = changes["retention_days"]
        parts.append("reset the retention" if days is None else f"set the retention to {days} days")
    return f"{actor.username} " + " and ".join(parts)
