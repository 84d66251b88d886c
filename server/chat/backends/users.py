"""Users, server-side (PROTOCOL.md section 17): a backend's people, without Parley passwords.

``put`` creates the user when the name is free (with no password: no login by password can ever
match it; new accounts' default topics joined) or updates them: the display name as a profile
update does (everyone who sees them hears it), the email address stored as verified (the backend
vouches for it; the workspace's allowed domains still apply). ``token`` mints an ordinary Parley
token for the backend to hand to its front end; ``disconnect`` closes every socket of the user on
every node, and with ``revoke`` is a logout (every token issued so far refused). A bot is no
backend's user (``forbidden``). Each call writes an audit row naming ``key:<label>``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from db.records import UserRecord
from db.uow import Database
from server.chat.accounts.users import UserService
from server.chat.audit.log import AuditService
from server.chat.backends.keys import ServerKey
from server.chat.backends.schemas import ServerUserOut, UserTokenOut
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import forbidden, not_found
from server.chat.kernel.events import SessionsRevoked
from server.chat.kernel.facts import Acted
from server.chat.kernel.views import iso_required
from server.chat.notifications.email import EmailService
from server.chat.people.schemas import ProfileUpdateIn
from server.chat.people.service import PeopleService


async def live_user(db: Database, username: str) -> Actor:
    """The actor of a user who may act now: ``not_found`` for no such user, ``forbidden`` for a
    disabled one."""
    async with db.read() as repos:
        user = await repos.users.by_name(username)
    if user is None or user.deleted_at is not None:
        raise not_found(f"no user named {username!r}")
    if user.disabled_at is not None:
        raise forbidden(f"{user.username!r} is disabled")
    return Actor(user.id, user.username, user.bot)


class ServerUsers:
    def __init__(
        self,
        db: Database,
        users: UserService,
        people: PeopleService,
        email: EmailService,
        audit: AuditService,
    ) -> None:
        self.db = db
        self.users = users
        self.people = people
        self.email = email
        self.audit = audit

    async def put(
        self, key: ServerKey, username: str, display_name: str | None, email: str | None
    ) -> ServerUserOut:
        async with self.db.read() as repos:
            found = await repos.users.by_name(username)
            if email is not None:  # refused before anything is stored
                for check in self.email.address_checks:
                    await check(repos, email)
        created = found is None
        if found is None:
            acted = Acted(key.doer, "server.user.create", username)
            unusable = await self.users.hasher.hash(secrets.token_urlsafe(32))  # no password matches
            user = await self.users.add_account(username, unusable, noted=(acted,))
            for join in self.users.on_registered:
                await join(user.id)
        else:
            user = _person(found)
        actor = Actor(user.id, user.username)
        changes: dict[str, str] = {}
        if display_name is not None:
            await self.people.update(actor, ProfileUpdateIn(display_name=display_name))
            changes["display_name"] = display_name
        if email is not None:
            async with self.db.write() as repos:
                await repos.notifications.set_email_address(user.id, email, datetime.now(UTC))
            changes["email"] = email
        if changes:
            await self.audit.record(key.doer, "server.user.update", user.username, None, changes)
        async with self.db.read() as repos:
            stored = await repos.users.by_id(user.id)
            prefs = await repos.notifications.prefs(user.id)
        return ServerUserOut(
            username=user.username,
            display_name=(stored.display_name or None) if stored is not None else None,
            email=prefs.email_address,
            created=created,
        )

    async def token(self, key: ServerKey, username: str, ttl: int | None) -> UserTokenOut:
        user = await self._person(username)
        token, expires = self.users.tokens.issue(user.id, user.token_version, ttl)
        details = {"expires_at": iso_required(expires)}  # never the token
        await self.audit.record(key.doer, "server.user.token", user.username, None, details)
        return UserTokenOut(token=token, expires_at=iso_required(expires))

    async def disconnect(self, key: ServerKey, username: str, revoke: bool) -> None:
        """Every socket of the user closes, on every node; ``revoke``: their tokens too."""
        user = await self._person(username)
        if revoke:
            await self.users.logout(Actor(user.id, user.username))
        else:
            async with self.db.write() as repos:
                repos.record(SessionsRevoked(user.id))  # closes the sockets; the tokens stay good
        details = {"revoke": revoke}
        await self.audit.record(key.doer, "server.user.disconnect", user.username, None, details)

    async def _person(self, username: str) -> UserRecord:
        async with self.db.read() as repos:
            found = await repos.users.by_name(username)
        if found is None or found.deleted_at is not None:
            raise not_found(f"no user named {username!r}")
        return _person(found)


def _person(user: UserRecord) -> UserRecord:
    """A person, not a bot: a bot is no backend's user."""
    if user.bot:
        raise forbidden(f"{user.username!r} is a bot")
    return user
