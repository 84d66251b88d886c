"""Accounts found by someone else's word for who a person is: an issuer and its subject.

Single sign-on's provider (PROTOCOL.md section 14) and an application that signs its users' tokens
(section 17) both name a person by ``iss`` + ``sub``, never by a username or an email. The link is
a row of ``identities`` (unique by issuer and subject); ``LinkedAccounts.account`` answers the
linked account, or makes one:

- its username is the first free one of ``sso_names.candidates`` (from ``preferred_username``,
  else ``name``): a name held by a user or a topic is never taken over, the next one is tried;
- it passes the workspace's door (section 19) in its own transaction, as every sign-up does;
- two first sign-ins of one person at once (two sockets, two nodes) race to insert the link: the
  loser's whole transaction (its account too) rolls back on the link's uniqueness, and it answers
  the winner's account.

A deleted or disabled account is ``unauthorized``, found or made.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from db.errors import Conflict
from db.records import UserRecord
from db.uow import Database
from server.chat.accounts.sso_names import candidates, display_name, username_base
from server.chat.accounts.users import DISABLED, FIRST_VERSIONS, Joining, UserService, owns_if_first
from server.chat.accounts.words import words_of
from server.chat.kernel.errors import ChatError, ErrorCode

logger = logging.getLogger(__name__)

MAX_KEY = 255  # the identities' columns


@dataclass(frozen=True)
class Identity:
    """A person as an issuer vouches for them, after the issuer's signature and claims were checked."""

    issuer: str
    subject: str
    preferred_username: str | None = None
    name: str | None = None
    email: str | None = None  # the ``email`` claim, only when ``email_verified`` is true (section 19)


class IdentityRefused(Exception):
    """The issuer's answer or token is not accepted: ``reason`` is short and safe to show (no
    secret, no token), ``detail`` is for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class LinkedAccounts:
    """The accounts linked to issuers' subjects, made on first sight."""

    def __init__(self, db: Database, users: UserService) -> None:
        self.db = db
        self.users = users

    async def account(self, identity: Identity, joining: Joining) -> UserRecord:
        """The linked account, else a new one the workspace's door admits (``joining``); an account
        that exists needs no admission. ``unauthorized`` for a deleted or disabled one and for an
        issuer or subject too long to keep; ``forbidden``/``invalid`` from the door."""
        if not (0 < len(identity.issuer) <= MAX_KEY and 0 < len(identity.subject) <= MAX_KEY):
            raise ChatError(ErrorCode.UNAUTHORIZED, "the issuer's user has no usable issuer or subject")
        user = await self.linked(identity)
        if user is None:
            user = await self._create(identity, joining)
        usable(user)
        return user

    async def linked(self, identity: Identity) -> UserRecord | None:
        async with self.db.read() as repos:
            user_id = await repos.sso.linked_user(identity.issuer, identity.subject)
            return None if user_id is None else await repos.users.by_id(user_id)

    async def _create(self, identity: Identity, joining: Joining) -> UserRecord:
        """A new account linked to ``identity``, under the first free name of its candidates."""
        shown = display_name(identity.name)
        password_hash = await self.users.hasher.hash(secrets.token_urlsafe(32))  # no password matches
        extra = (str(secrets.randbelow(10**6)) for _ in range(20))
        for username in candidates(username_base(identity.preferred_username, identity.name), extra):
            try:
                user = await self._store(username, identity, shown, password_hash, joining)
            except _NameTaken:
                continue
            except Conflict:
                linked = await self.linked(identity)  # another sign-in linked this person first
                if linked is not None:
                    return linked
                continue  # the name was taken between our look and our insert
            for join in self.users.on_registered:
                await join(user.id)
            logger.info("made the account %s for a user of %s", user.username, identity.issuer)
            return user
        raise ChatError(ErrorCode.CONFLICT, "no free username was found for this account; try again")

    async def _store(
        self, username: str, identity: Identity, shown: str, password_hash: str, joining: Joining
    ) -> UserRecord:
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            await repos.names.claim(username)  # one namespace with topics (db/conversations/names.py)
            if await repos.names.user_holds(username) or await repos.names.topic_holds(username):
                raise _NameTaken
            version = secrets.randbelow(FIRST_VERSIONS) + 1
            user = await repos.users.add(username, password_hash, now, version)
            for door in self.users.doors:  # closed, invite-only, outside the domains: refused
                await door.admit(repos, user, joining)
            if shown:
                await repos.users.update_fields(user.id, display_name=shown)
            await repos.users.set_words(user.id, words_of(username, shown))
            await repos.sso.link(identity.issuer, identity.subject, user.id, now)
            return await owns_if_first(repos, user)


class _NameTaken(Exception):
    pass


def usable(user: UserRecord | None) -> None:
    """``unauthorized`` unless ``user`` is an account that exists and is enabled."""
    if user is None or user.deleted_at is not None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "this account no longer exists")
    if user.disabled_at is not None:
        raise ChatError(ErrorCode.UNAUTHORIZED, DISABLED)
