"""The workspace's users administered (PROTOCOL.md section 19): roles, disabling, the listing.

Owners and admins list the accounts (``GET /api/admin/users``) and change them (``PATCH``): only
an owner makes or unmakes owners and admins, and the last owner stays one
(``rules.workspace.check_role_change``); an admin cannot disable an owner, and the last active
owner cannot be disabled. A role change records ``RoleChanged``: every node's ``Roles`` takes it
before any service acts, so the rank table in a topic counts it at once, for sockets opened
before it too. Disabling is the operator's (``AccountService.disable``): tokens revoked, sockets
closed on every node. ``parley user role`` acts as an owner (``by`` the CLI). Every change is
audited (``user.role``, ``user.disable``, ``user.enable``).

Errors: ``forbidden`` (not an owner or admin, or a change their role does not allow),
``not_found`` (no such account), ``invalid`` (a bot given a role above member, an empty change).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from db.records import UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.kernel.actors import CLI, Actor, Doer
from server.chat.kernel.errors import forbidden, invalid
from server.chat.kernel.events import RoleChanged, SessionsRevoked
from server.chat.kernel.facts import Acted
from server.chat.kernel.views import iso, iso_required
from server.chat.operators.accounts import live_account, revoke_sessions
from server.chat.operators.schemas import AdminUserOut, AdminUsersOut, RoleOut
from server.chat.rules.workspace import MEMBER, OWNER, Roles, administers, check_role_change, require_admin

PAGE = 50  # accounts a listing page holds by default
MAX_PAGE = 200  # and at most
LAST_OWNER = "the last owner cannot be disabled: make another owner first"


class WorkspaceUsers:
    def __init__(self, db: Database, roles: Roles) -> None:
        self.db = db
        self.roles = roles

    async def list(
        self,
        actor: Actor,
        q: str = "",
        role: str | None = None,
        disabled: bool | None = None,
        after: str | None = None,
        limit: int = PAGE,
    ) -> AdminUsersOut:
        """A page of accounts by name (``after``: the ``next`` of the page before), each with its
        role, state, last seen and sign-in methods. ``forbidden`` unless an owner or admin."""
        require_admin(self.roles.of(actor.id))
        limit = max(1, min(limit, MAX_PAGE))
        async with self.db.read() as repos:
            rows = await repos.users.administered(q.strip(), role, disabled, after, limit + 1)
        more = len(rows) > limit
        users = [admin_view(user, linked) for user, linked in rows[:limit]]
        return AdminUsersOut(users=users, next=users[-1].username if more else None)

    async def update(
        self, actor: Actor, username: str, role: str | None = None, disabled: bool | None = None
    ) -> AdminUserOut:
        """Set ``role`` and/or ``disabled`` of ``username`` as ``actor`` (an owner or admin)."""
        if role is None and disabled is None:
            raise invalid("give 'role' and/or 'disabled'")
        async with self.db.write() as repos:
            me = await repos.users.by_id(actor.id)
            actor_role = MEMBER if me is None else me.role
            require_admin(actor_role)
            user = await live_account(repos, username)
            by = Doer.of(actor)
            if role is not None:
                user = await _change_role(repos, actor_role, user, role, by)
            if disabled is not None:
                user = await _set_disabled(repos, actor, actor_role, user, disabled)
            linked = await repos.sso.is_linked(user.id)
        return admin_view(user, linked)

    async def set_role(self, username: str, role: str, by: Doer = CLI) -> RoleOut:
        """``parley user role``: the operator acts as an owner (the last owner still stays one)."""
        async with self.db.write() as repos:
            user = await live_account(repos, username)
            was = user.role
            user = await _change_role(repos, OWNER, user, role, by)
        return RoleOut(username=user.username, role=user.role, was=was)


async def _change_role(
    repos: Repositories, actor_role: str, user: UserRecord, role: str, by: Doer
) -> UserRecord:
    if user.bot and administers(role):
        raise invalid("a bot cannot administer the workspace")
    owners = await repos.users.owners(lock=True)
    # A disabled owner does not count: the last one who may act must stay.
    check_role_change(actor_role, user.role, role, len(owners) if user.id in owners else len(owners) + 1)
    if user.role == role:
        return user
    await repos.users.set_role(user.id, role)
    repos.record(RoleChanged(user.id, role))
    repos.note(Acted(by, "user.role", user.username, details={"role": role, "was": user.role}))
    return replace(user, role=role)


async def _set_disabled(
    repos: Repositories, actor: Actor, actor_role: str, user: UserRecord, disabled: bool
) -> UserRecord:
    if (user.disabled_at is not None) == disabled:
        return user
    if user.role == OWNER and actor_role != OWNER:
        raise forbidden("only an owner disables or enables an owner")
    by = Doer.of(actor)
    if disabled:
        if user.role == OWNER and (await repos.users.owners(lock=True)) == [user.id]:
            raise forbidden(LAST_OWNER)
        now = datetime.now(UTC)
        await repos.users.update_fields(user.id, disabled_at=now)
        await revoke_sessions(repos, user.id)  # tokens revoked, sockets closed on every node
        repos.note(Acted(by, "user.disable", user.username))
        return replace(user, disabled_at=now)
    await repos.users.update_fields(user.id, disabled_at=None)
    repos.record(SessionsRevoked(user.id))  # every node's token cache forgets the user
    repos.note(Acted(by, "user.enable", user.username))
    return replace(user, disabled_at=None)


def admin_view(user: UserRecord, linked: bool) -> AdminUserOut:
    """An account as the administration lists it; its sign-in methods: ``sso`` when linked to
    a single-sign-on identity (such an account was given a password nobody knows), else
    ``password``; a bot signs in with API tokens only."""
    methods = ["token"] if user.bot else ["sso"] if linked else ["password"]
    return AdminUserOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        state="disabled" if user.disabled_at is not None else "active",
        bot=user.bot,
        created_at=iso_required(user.created_at),
        last_seen=iso(user.last_seen_at),
        methods=methods,
    )
