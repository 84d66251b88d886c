"""Operator commands on accounts: list, disable, enable, delete, set a password.

Errors: ``not_found`` (no user of that name; a deleted account has no name any more).
Disabling, deleting and setting a password revoke every token issued so far (the token
version moves on, as a logout does) and record ``SessionsRevoked``: the user's open sockets
close on every running server (through the hub, or the relay table without Redis). A
disabled user cannot log in or connect (``unauthorized``) until enabled again.

Deleting keeps the account's row as a placeholder named ``[deleted N]`` (brackets and a
space: no sign-up can take that name): the user's messages stay in history attributed to it,
so other members' conversations keep their sense and each topic's ``seq`` stays gapless.
Their memberships and echo transcripts are removed, their password can never match again,
and the name is free to register anew.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Literal

from db.records import UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.accounts.security import PasswordHasher
from server.chat.kernel.actors import CLI, Doer
from server.chat.kernel.errors import not_found
from server.chat.kernel.events import MembershipChanged, SessionsRevoked, UserDeleted
from server.chat.kernel.facts import Acted
from server.chat.kernel.views import iso, iso_required
from server.chat.operators.schemas import AccountOut, AccountsOut, DeletedAccountOut
from server.chat.rules.access import user_named


class AccountService:
    def __init__(self, db: Database, hasher: PasswordHasher) -> None:
        self.db = db
        self.hasher = hasher

    async def list(self) -> AccountsOut:
        """Every account not deleted, oldest first."""
        async with self.db.read() as repos:
            users = await repos.users.all()
        return AccountsOut(users=[account_view(user) for user in users])

    async def disable(self, username: str, by: Doer = CLI) -> AccountOut:
        """No more logins or connections; open sockets close. Disabling twice changes nothing.
        ``by``: who the audit row names (a change only)."""
        async with self.db.write() as repos:
            user = await live_account(repos, username)
            view = account_view(user, "disabled")
            if user.disabled_at is None:
                await repos.users.update_fields(user.id, disabled_at=datetime.now(UTC))
                await revoke_sessions(repos, user.id)
                repos.note(Acted(by, "user.disable", user.username))
        return view

    async def enable(self, username: str, by: Doer = CLI) -> AccountOut:
        """Logins work again (tokens revoked by ``disable`` stay revoked); an enabled user: no change."""
        async with self.db.write() as repos:
            user = await live_account(repos, username)
            view = account_view(user, "active")
            if user.disabled_at is not None:
                await repos.users.update_fields(user.id, disabled_at=None)
                # Every node's token cache forgets the user, so a connection is let in at once;
                # the user has no socket to close (none was let in while disabled).
                repos.record(SessionsRevoked(user.id))
                repos.note(Acted(by, "user.enable", user.username))
        return view

    async def set_password(self, username: str, password: str, by: Doer = CLI) -> AccountOut:
        """A new password (validated by the caller, ``PasswordIn``); every session ends."""
        password_hash = await self.hasher.hash(password)
        async with self.db.write() as repos:
            user = await live_account(repos, username)
            view = account_view(user)
            await repos.users.update_fields(user.id, password_hash=password_hash)
            await revoke_sessions(repos, user.id)
            repos.note(Acted(by, "user.set_password", user.username))  # never the password
        return view

    async def delete(self, username: str, by: Doer = CLI) -> DeletedAccountOut:
        """Sessions end, memberships and transcripts go, messages stay under a placeholder name."""
        unguessable = await self.hasher.hash(secrets.token_urlsafe(32))
        async with self.db.write() as repos:
            user = await live_account(repos, username)
            user_id, name = user.id, user.username
            placeholder = f"[deleted {user_id}]"
            topics = await repos.memberships.of_user(user_id)
            for topic, _membership in topics:
                await repos.memberships.remove(topic.id, user_id)
                repos.record(MembershipChanged(user_id, topic.id, joined=False))
            await repos.users.delete_transcripts(user_id)
            await repos.users.update_fields(
                user_id,
                username=placeholder,
                username_key=placeholder,
                password_hash=unguessable,
                deleted_at=datetime.now(UTC),
            )
            await revoke_sessions(repos, user_id)
            repos.record(UserDeleted(user_id, name))
            kept = await repos.messages.count_by_sender(user_id)
            details = {"placeholder": placeholder, "memberships_removed": len(topics)}
            repos.note(Acted(by, "user.delete", name, details=details))
        return DeletedAccountOut(
            username=name,
            placeholder=placeholder,
            messages_kept=kept,
            memberships_removed=len(topics),
        )


async def revoke_sessions(repos: Repositories, user_id: int) -> None:
    """Every token so far stops working; published after the commit, open sockets close."""
    await repos.users.bump_token_version(user_id)
    repos.record(SessionsRevoked(user_id))


async def live_account(repos: Repositories, username: str) -> UserRecord:
    """The account of that name; ``not_found`` for a deleted one's placeholder too."""
    user = await user_named(repos, username)
    if user.deleted_at is not None:
        raise not_found(f"no user named {username!r}")
    return user


State = Literal["active", "disabled", "deleted"]


def account_view(user: UserRecord, state: State | None = None) -> AccountOut:
    """The account as listed; ``state`` overrides the stored one (a view of the row being changed)."""
    if state is None:
        state = "deleted" if user.deleted_at else "disabled" if user.disabled_at else "active"
    return AccountOut(
        username=user.username,
        role="owner" if user.role == "owner" else "admin" if user.role == "admin" else "member",
        state=state,
        created_at=iso_required(user.created_at),
        last_seen=iso(user.last_seen_at),
    )
