"""The workspace's settings and invites (PROTOCOL.md section 19), and the accounts admins create.

- ``settings`` / ``update``: ``registration``, ``allowed_domains``, ``members_invite``, for owners
  and admins (``forbidden`` otherwise), stored in the database (the next sign-up on any node reads
  them) and audited (``workspace.settings``).
- ``create_invite``: by owners and admins, by members too when ``members_invite``; a code shown
  once (only its SHA-256 is stored), mailed through the outbox when an email is given
  (``invalid`` when this server sends no email, or the address is outside the allowed domains).
  Its topics must exist and be ones the inviter may invite to (a private topic: a member of it;
  ``not_found`` otherwise). ``rate_limited`` past ``invites_per_hour`` a user.
- ``invites``: admins see every invite, members their own; ``revoke``: the same (``not_found``).
- ``create_user``: an admin's account; without a password, it gets an invite bound to it, mailed.

The role is read from the database in the action's transaction, so a demotion on another node
counts at once.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from db.notifications.mail import NewMail
from db.records import UserRecord
from db.repositories import Repositories
from db.uow import Database
from db.workspace.records import InviteRecord
from db.workspace.repository import WorkspaceRepository
from server.chat.accounts.api_tokens import digest
from server.chat.accounts.users import UserService
from server.chat.kernel.actors import Actor, Doer
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.errors import forbidden, invalid, not_found, rate_limited
from server.chat.kernel.facts import Acted
from server.chat.kernel.places import place_of_topic
from server.chat.kernel.views import iso, iso_required
from server.chat.notifications.mail import Composer
from server.chat.rules.access import named_topic, require_member
from server.chat.rules.workspace import administers, require_admin
from server.chat.workspace.rules import JoinRules, rules_in
from server.chat.workspace.schemas import (
    CreatedInvitationOut,
    InvitationIn,
    InvitationOut,
    InvitationsOut,
    NewUserIn,
    NewUserOut,
    WorkspaceSettingsIn,
    WorkspaceSettingsOut,
)

NO_INVITES = "only the workspace's owners and admins may invite people here"
NO_EMAIL = "this server sends no email (it has no SMTP settings)"
ADMIN_INVITE_TTL = timedelta(days=7)


class WorkspaceService:
    def __init__(
        self,
        db: Database,
        users: UserService,
        default_registration: str,
        invite_limit: SharedLimit,
        composer: Composer | None,
        written: Callable[[], None],
    ) -> None:
        self.db = db
        self.users = users
        self.default_registration = default_registration  # PARLEY_REGISTRATION
        self.invite_limit = invite_limit  # invites a user makes an hour
        self.composer = composer  # None: this server sends no email
        self.written = written  # a mail is in the outbox: the worker looks now

    async def settings(self, actor: Actor) -> WorkspaceSettingsOut:
        async with self.db.read() as repos:
            await _require_admin(repos, actor)
            return _settings_view(await rules_in(repos, self.default_registration))

    async def update(self, actor: Actor, data: WorkspaceSettingsIn) -> WorkspaceSettingsOut:
        changes = data.model_dump(exclude_none=True)
        async with self.db.write() as repos:
            await _require_admin(repos, actor)
            await repos.of(WorkspaceRepository).store(changes, datetime.now(UTC))
            if changes:
                repos.note(Acted(Doer.of(actor), "workspace.settings", details=changes))
            return _settings_view(await rules_in(repos, self.default_registration))

    async def create_invite(self, actor: Actor, data: InvitationIn) -> CreatedInvitationOut:
        if data.email is not None and self.composer is None:
            raise invalid(NO_EMAIL)
        wait = await self.invite_limit.take(str(actor.id))
        if wait > 0:
            raise rate_limited("too many invitations made; try later", wait)
        code = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            rules = await rules_in(repos, self.default_registration)
            if not (administers(await _role(repos, actor)) or rules.members_invite):
                raise forbidden(NO_INVITES)
            if not rules.allows(data.email):
                raise invalid(f"{data.email} is outside the workspace's allowed domains")
            topics = [await _invitable(repos, actor, name) for name in dict.fromkeys(data.topics)]
            invite = await repos.of(WorkspaceRepository).add_invite(
                digest(code),
                actor.id,
                now,
                now + timedelta(seconds=data.expires_in),
                data.max_uses,
                data.email,
                topics,
            )
            repos.note(Acted(Doer.of(actor), "invite.create", str(invite.id), details=_details(invite)))
            await self._mail(repos, invite, code, actor.username, now)
        if invite.email is not None:
            self.written()
        return _created(invite, code)

    async def invites(self, actor: Actor) -> InvitationsOut:
        async with self.db.read() as repos:
            mine = await _own_scope(repos, actor, self.default_registration)
            found = await repos.of(WorkspaceRepository).invites(created_by=mine)
            names = {
                u.id: u.username
                for u in await repos.users.by_ids({i.created_by for i in found if i.created_by})
            }
        now = datetime.now(UTC)
        return InvitationsOut(invites=[_listed(invite, names, now) for invite in found])

    async def revoke(self, actor: Actor, invite_id: int) -> None:
        async with self.db.write() as repos:
            mine = await _own_scope(repos, actor, self.default_registration)
            invite = await repos.of(WorkspaceRepository).invite(invite_id)
            if invite is None or (mine is not None and invite.created_by != mine):
                raise not_found(f"no invitation {invite_id}")
            if invite.revoked_at is None:
                await repos.of(WorkspaceRepository).revoke(invite.id, datetime.now(UTC))
                repos.note(Acted(Doer.of(actor), "invite.revoke", str(invite.id)))

    async def create_user(self, actor: Actor, data: NewUserIn) -> NewUserOut:
        """An account made by an owner or admin, whatever the registration; without a password it
        gets an unusable one and an invite bound to it, mailed to ``email`` (``invalid`` without an
        address or a server that sends no email)."""
        async with self.db.read() as repos:
            await _require_admin(repos, actor)
            rules = await rules_in(repos, self.default_registration)
        if data.password is None and (data.email is None or self.composer is None):
            raise invalid(
                "without a password, an email is needed to send the invitation"
                if data.email is None
                else NO_EMAIL
            )
        if data.email is not None and not rules.allows(data.email):
            raise invalid(f"{data.email} is outside the workspace's allowed domains")
        password = data.password or secrets.token_urlsafe(32)
        user = await self.users.create(data.username, password, by=Doer.of(actor))
        if data.password is not None:
            return NewUserOut(username=user.username, role=user.role)
        return NewUserOut(
            username=user.username, role=user.role, invite=await self._bound(actor, user, data.email)
        )

    async def _bound(self, actor: Actor, user: UserRecord, email: str | None) -> CreatedInvitationOut:
        code = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            invite = await repos.of(WorkspaceRepository).add_invite(
                digest(code), actor.id, now, now + ADMIN_INVITE_TTL, 1, email, [], user_id=user.id
            )
            repos.note(Acted(Doer.of(actor), "invite.create", str(invite.id), details=_details(invite)))
            await self._mail(repos, invite, code, actor.username, now, user.username)
        self.written()
        return _created(invite, code)

    async def _mail(
        self,
        repos: Repositories,
        invite: InviteRecord,
        code: str,
        inviter: str,
        now: datetime,
        username: str | None = None,
    ) -> None:
        if invite.email is None or self.composer is None:
            return
        link = f"{self.composer.base_url}/#invite={code}"
        content = self.composer.invitation(invite.email, inviter, link, invite.expires_at, username)
        await repos.mail.enqueue(NewMail(uuid.uuid4().hex, None, "invite", invite.email, content, now))


async def _role(repos: Repositories, actor: Actor) -> str:
    user = await repos.users.by_id(actor.id)
    return "member" if user is None else user.role


async def _require_admin(repos: Repositories, actor: Actor) -> None:
    require_admin(await _role(repos, actor))


async def _own_scope(repos: Repositories, actor: Actor, default: str) -> int | None:
    """None: every invite (an admin's view); an id: that member's own (``forbidden`` unless
    members may invite)."""
    if administers(await _role(repos, actor)):
        return None
    if not (await rules_in(repos, default)).members_invite:
        raise forbidden(NO_INVITES)
    return actor.id


async def _invitable(repos: Repositories, actor: Actor, name: str) -> str:
    topic = await named_topic(repos, name)
    if topic.kind != "public":
        await require_member(repos, place_of_topic(topic), actor, "invite to it")
    return topic.name


def _settings_view(rules: JoinRules) -> WorkspaceSettingsOut:
    return WorkspaceSettingsOut(
        registration=rules.registration,
        allowed_domains=list(rules.allowed_domains),
        members_invite=rules.members_invite,
    )


def _details(invite: InviteRecord) -> dict[str, object]:
    return {
        "max_uses": invite.max_uses,
        "expires_at": iso_required(invite.expires_at),
        "topics": list(invite.topics),
        "email": invite.email is not None,
    }


def _created(invite: InviteRecord, code: str) -> CreatedInvitationOut:
    return CreatedInvitationOut(
        id=invite.id,
        code=code,
        url=f"/#invite={code}",
        expires_at=iso_required(invite.expires_at),
        uses_left=invite.uses_left,
    )


def _listed(invite: InviteRecord, names: dict[int, str], now: datetime) -> InvitationOut:
    return InvitationOut(
        id=invite.id,
        expires_at=iso_required(invite.expires_at),
        uses_left=invite.uses_left,
        max_uses=invite.max_uses,
        email=invite.email,
        topics=list(invite.topics),
        created_by=names.get(invite.created_by) if invite.created_by is not None else None,
        created_at=iso(invite.created_at) or "",
        revoked=invite.revoked_at is not None,
        usable=invite.usable(now),
    )
