"""People (PROTOCOL.md section 14): profiles, status, availability and the directory.

A change of a profile or a status is told to everyone online who shares a topic or a direct
conversation with the user (``user:updated``), rendered twice: with the presence fields for the
user and their partners, with them null for the rest (section 4's rule). An expired status is
cleared by a sweep every few seconds (on PostgreSQL by one node at a time: an advisory lock), told
the same way. Availability the user chooses is stored here and announced by presence.

Errors: ``not_found`` (no such user), ``invalid`` (an avatar that is not an image the user
uploaded; bad fields, by the models).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from db.records import UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.accounts.words import fold, words_of
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import invalid, not_found
from server.chat.kernel.events import Event, RoleChanged, ToUsers, UserUpdated
from server.chat.kernel.periodic import Periodic
from server.chat.kernel.schemas import Empty, ProfileOut
from server.chat.people.schemas import ProfileUpdateIn, StatusSetIn, UsersOut
from server.chat.people.views import profile_view, profiles_view
from server.chat.presence.service import PresenceService

STATUS_SWEEP = 5.0  # seconds between looks for expired statuses
STATUS_BATCH = 500


class PeopleService:
    def __init__(self, db: Database, presence: PresenceService) -> None:
        self.db = db
        self.presence = presence
        self._sweep = Periodic(self.expire_statuses, STATUS_SWEEP, "clearing expired statuses")

    def start(self) -> None:
        self._sweep.start()

    async def stop(self) -> None:
        await self._sweep.stop()

    def active(self, user_id: int) -> None:
        """An event from a socket of the user: the one dispatch pipeline
        (``server.edge.realtime.dispatch``) calls it on every frame of every transport whose
        sockets hold the user's presence (Socket.IO's chat namespace, the gateways' dialects)."""
        self.presence.activity.touch(user_id)

    async def still_here(self, actor: Actor) -> Empty:
        """``presence:active``: the page saw its user's input (the event itself counts)."""
        self.active(actor.id)
        return Empty()

    # Reading -------------------------------------------------------------------------------

    async def profile(self, viewer: Actor, username: str) -> ProfileOut:
        async with self.db.read() as repos:
            user = await repos.users.by_name(username)
        if user is None:
            raise not_found(f"no user named {username!r}")
        (shown,) = await self.profiles(viewer, [user])
        return shown

    async def get(self, viewer: Actor, usernames: Sequence[str]) -> UsersOut:
        """``users:get``: the known ones among ``usernames``, in the order asked."""
        async with self.db.read() as repos:
            found = {user.username.lower(): user for user in await repos.people.by_names(usernames)}
        users = list(
            {name.lower(): found[name.lower()] for name in usernames if name.lower() in found}.values()
        )
        return UsersOut(users=await self.profiles(viewer, users))

    async def search(self, viewer: Actor, q: str, limit: int) -> UsersOut:
        """Users with a word of their username or display name starting with ``q`` (case and
        accents aside), live accounts only; whole names first (the exact username, the exact
        display name, usernames then display names starting with ``q``), then the words, so a
        flood of words in a few names hides nobody (``PeopleRepository.search``)."""
        prefix = fold(q.strip())
        if not prefix:
            return UsersOut(users=[])
        async with self.db.read() as repos:
            found = await repos.people.search(prefix, limit)
        return UsersOut(users=await self.profiles(viewer, found))

    async def profiles(self, viewer: Actor, users: Sequence[UserRecord]) -> list[ProfileOut]:
        """Profiles as ``viewer`` sees them (presence only where section 4 lets them)."""
        if not users:
            return []
        seen_by = await self.seen_by(viewer.id)
        online = await self.presence.online_among(user.id for user in users)
        return profiles_view(users, viewer.id, seen_by, online, datetime.now(UTC))

    async def seen_by(self, viewer_id: int) -> set[int]:
        """The users whose presence ``viewer_id`` may see: partners, none across a block."""
        partners = set(await self.db.reads.partners(viewer_id))
        if partners and self.presence.blocks is not None:
            partners -= set(await self.presence.blocks.apart(viewer_id))
        return partners

    # Changing ------------------------------------------------------------------------------

    async def update(self, actor: Actor, data: ProfileUpdateIn) -> ProfileOut:
        """``profile:update``: the fields given; ``avatar`` null removes the avatar."""
        given = data.model_fields_set
        values: dict[str, object] = {}
        for name in ("display_name", "title", "timezone"):
            if name in given and getattr(data, name) is not None:
                values[name] = getattr(data, name)
        async with self.db.write() as repos:
            if "avatar" in given:
                values["avatar_file_id"] = await _avatar(repos, actor, data.avatar)
            if values:
                await repos.users.update_fields(actor.id, **values)
            user = await _user(repos, actor)
            if "display_name" in values:
                await repos.users.set_words(user.id, words_of(user.username, user.display_name))
            if values:
                repos.record(*await self.updated(repos, user))
        return await self._own(user)

    async def set_status(self, actor: Actor, data: StatusSetIn) -> ProfileOut:
        expires = None
        if data.expires_in is not None:
            expires = datetime.now(UTC) + timedelta(seconds=data.expires_in)
        async with self.db.write() as repos:
            await repos.users.update_fields(
                actor.id, status_emoji=data.emoji, status_text=data.text, status_expires_at=expires
            )
            user = await _user(repos, actor)
            repos.record(*await self.updated(repos, user))
        return await self._own(user)

    async def clear_status(self, actor: Actor) -> ProfileOut:
        async with self.db.write() as repos:
            await repos.users.update_fields(
                actor.id, status_emoji=None, status_text=None, status_expires_at=None
            )
            user = await _user(repos, actor)
            repos.record(*await self.updated(repos, user))
        return await self._own(user)

    async def set_availability(self, actor: Actor, availability: str) -> ProfileOut:
        """``auto`` (from activity), ``away`` or ``dnd`` until set back to ``auto``; partners get
        ``presence`` with what it makes."""
        async with self.db.write() as repos:
            await repos.users.update_fields(actor.id, availability=availability)
            user = await _user(repos, actor)
        await self.presence.chosen(actor.id, actor.username, availability)
        return await self._own(user)

    async def expire_statuses(self) -> None:
        """Statuses past their expiry are cleared and told, a batch at a time."""
        while True:
            async with self.db.write() as repos:
                if not await repos.people.status_lock():
                    return  # another node does it now
                cleared = await repos.people.clear_expired_statuses(datetime.now(UTC), STATUS_BATCH)
                for user in await repos.users.by_ids(cleared):
                    repos.record(*await self.updated(repos, user))
            if len(cleared) < STATUS_BATCH:
                return

    async def _own(self, user: UserRecord) -> ProfileOut:
        online = await self.presence.is_online(user.id)
        return profile_view(user, True, online, datetime.now(UTC))

    async def updated(self, repos: Repositories, user: UserRecord) -> list[Event]:
        """``user:updated`` for everyone online who shares a conversation with the user: the
        partners (and the user) see presence, the rest of them do not."""
        others = await repos.people.co_members(user.id)
        online = await self.presence.online_among([*others, user.id])
        partners = await self.seen_by(user.id)
        now = datetime.now(UTC)
        shown = tuple(u for u in (*others, user.id) if u in online and (u in partners or u == user.id))
        hidden = tuple(u for u in others if u in online and u not in partners and u != user.id)
        events: list[Event] = []
        if shown:
            events.append(UserUpdated(profile_view(user, True, user.id in online, now), ToUsers(shown)))
        if hidden:
            events.append(UserUpdated(profile_view(user, False, user.id in online, now), ToUsers(hidden)))
        return events


class ProfileOnRoleChange:
    """The commit handler (``Database.before_commit``): a workspace role is part of the profile
    (PROTOCOL.md section 19), so a ``RoleChanged`` (the CLI, an owner's ``PATCH``, the first
    owner) is also ``user:updated``, in the change's transaction: the user's own page shows or
    hides its administration at once, on every node, and so do the lists of those who share a
    conversation with them."""

    def __init__(self, people: PeopleService) -> None:
        self.people = people

    async def __call__(self, repos: Repositories, recorded: Sequence[object]) -> None:
        for event in recorded:
            if isinstance(event, RoleChanged):
                user = await repos.users.by_id(event.user_id)
                if user is not None:
                    repos.record(*await self.people.updated(repos, user))


async def _user(repos: Repositories, actor: Actor) -> UserRecord:
    user = await repos.users.by_id(actor.id)
    if user is None:
        raise not_found(f"no user named {actor.username!r}")
    return user


async def _avatar(repos: Repositories, actor: Actor, file_id: str | None) -> str | None:
    """The file to show as the actor's avatar (None: no avatar): an image they uploaded."""
    if file_id is None:
        return None
    found = await repos.files.by_id(file_id)
    if found is None or found.uploader_id != actor.id or found.width is None:
        raise invalid("the avatar must be an image you uploaded (POST /api/files)")
    await repos.files.mark_avatar(file_id)
    return file_id
