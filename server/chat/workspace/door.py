"""The door every new account passes (PROTOCOL.md section 19; ``accounts.users.Door`` is its port).

- ``open``: anyone signs up; a code given must be valid all the same, and is used.
- ``invite``: a sign-up needs a valid code; single sign-on without one only finds existing accounts.
- ``closed``: no sign-up and no new single-sign-on account; only admins create accounts
  (``POST /api/admin/users``), whose invite (bound to the account made) still works.
- ``allowed_domains``: the address known of a new account (single sign-on's verified email claim,
  or the invite's email) must be in one of them; a single-sign-on account without a verified
  address is refused while domains are set. A password sign-up without an invite carries no
  address and is not checked.

A code is used in the new account's own transaction (``WorkspaceRepository.use``: one conditional
update, so two sign-ups racing for its last use cannot both succeed), and the account joins the
invite's topics in it too. Errors: ``forbidden`` (closed, no code, a domain outside), ``invalid``
(``NO_LONGER_VALID`` for an unknown, used-up, expired or revoked code).
"""

from __future__ import annotations

from datetime import UTC, datetime

from db.records import UserRecord
from db.repositories import Repositories
from db.uow import Database
from db.workspace.records import InviteRecord
from db.workspace.repository import WorkspaceRepository
from server.chat.accounts.api_tokens import digest
from server.chat.accounts.security import PasswordHasher
from server.chat.accounts.users import Joining
from server.chat.kernel.errors import forbidden, invalid
from server.chat.kernel.events import MembershipChanged
from server.chat.kernel.facts import MemberActed
from server.chat.workspace.rules import CLOSED, JoinRules, rules_in

NO_LONGER_VALID = "this invitation is no longer valid"
CLOSED_TO_SIGN_UPS = "this workspace is closed to sign-ups: ask an admin to create your account"
INVITE_ONLY = "this workspace is invite-only: sign up with an invitation link"
SSO_EXISTING_ONLY = "single sign-on here only signs in existing accounts; ask an admin for an invitation"
OUTSIDE_DOMAINS = "this email address is outside the workspace's allowed domains"
NO_VERIFIED_EMAIL = "your sign-in provider gave no verified email address, which this workspace requires"
BOUND = "this invitation is for the account an admin made: sign up under its username"


class Door:
    def __init__(self, db: Database, hasher: PasswordHasher, default_registration: str) -> None:
        self.db = db
        self.hasher = hasher
        self.default_registration = default_registration  # PARLEY_REGISTRATION

    async def rules(self) -> JoinRules:
        async with self.db.read() as repos:
            return await rules_in(repos, self.default_registration)

    async def registration(self) -> str:
        return (await self.rules()).registration

    async def check_address(self, repos: Repositories, email: str) -> None:
        """An address a member sets (``PUT /api/users/me/email``) must be in the allowed domains,
        as a new account's must: else ``forbidden``."""
        if not (await rules_in(repos, self.default_registration)).allows(email):
            raise forbidden(OUTSIDE_DOMAINS)

    async def admit(self, repos: Repositories, user: UserRecord, joining: Joining) -> None:
        rules = await rules_in(repos, self.default_registration)
        if joining.invite is None:
            self._without_code(rules, joining)
            return
        invite = await repos.of(WorkspaceRepository).invite_by_hash(digest(joining.invite))
        if invite is None or (invite.user_id is not None and invite.user_id != user.id):
            raise invalid(NO_LONGER_VALID if invite is None else BOUND)
        if rules.registration == CLOSED:
            raise forbidden(CLOSED_TO_SIGN_UPS)
        if not rules.allows(joining.email or invite.email):
            raise forbidden(NO_VERIFIED_EMAIL if joining.sso and not joining.email else OUTSIDE_DOMAINS)
        now = datetime.now(UTC)
        if not await repos.of(WorkspaceRepository).use(invite.id, now):
            raise invalid(NO_LONGER_VALID)
        await join_topics(repos, user, invite, now)

    def _without_code(self, rules: JoinRules, joining: Joining) -> None:
        if rules.registration != "open":
            if joining.sso:
                raise forbidden(SSO_EXISTING_ONLY)
            raise forbidden(CLOSED_TO_SIGN_UPS if rules.registration == CLOSED else INVITE_ONLY)
        if joining.sso and not rules.allows(joining.email):
            raise forbidden(OUTSIDE_DOMAINS if joining.email else NO_VERIFIED_EMAIL)

    async def claim(self, joining: Joining, username: str, password: str) -> UserRecord | None:
        """The account an admin made (without a password) for this invite, now with ``password``;
        None when the code is not such an invite for ``username``."""
        if joining.invite is None:
            return None
        code_hash = digest(joining.invite)
        async with self.db.read() as repos:
            invite = await repos.of(WorkspaceRepository).invite_by_hash(code_hash)
            user = (
                None if invite is None or invite.user_id is None else await repos.users.by_id(invite.user_id)
            )
        if invite is None or user is None or user.username.lower() != username.lower():
            return None
        password_hash = await self.hasher.hash(password)
        async with self.db.write() as repos:
            if user.deleted_at is not None or user.disabled_at is not None:
                raise invalid(NO_LONGER_VALID)
            if not await repos.of(WorkspaceRepository).use(invite.id, datetime.now(UTC)):
                raise invalid(NO_LONGER_VALID)
            await repos.users.update_fields(user.id, password_hash=password_hash)
        return user


async def join_topics(repos: Repositories, user: UserRecord, invite: InviteRecord, now: datetime) -> None:
    """The invite's topics, besides the default ones (a topic gone since, or one the account is
    banned from, is skipped)."""
    for name in invite.topics:
        topic = await repos.topics.by_name(name)
        if topic is None or topic.kind == "direct" or await repos.memberships.get(topic.id, user.id):
            continue
        if await repos.bans.active(topic.id, user.id):
            continue
        await repos.memberships.add(topic, user.id, "member", now)
        repos.record(MembershipChanged(user.id, topic.id, joined=True))
        repos.note(MemberActed(topic.id, topic.name, user.id, user.username, "joined"))
