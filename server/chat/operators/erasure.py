"""Erasure (PROTOCOL.md section 16): an account deleted with what it wrote.

Asked by the user (``DELETE /api/users/me`` with their password) or by an operator (``parley user
delete NAME --erase``). In the asking transaction the account is disabled: tokens revoked (the
token version moves on), its open sockets closed on every node (``SessionsRevoked``, as ``parley
user disable``), its memberships ended, its password made unmatchable, its bots disabled with
their API tokens revoked (a bot's messages stay: they are the bot's), and its name shown as
``[deleted]`` from then on; the name itself stays reserved (the row keeps its ``username_key``, so
a new sign-up with it is refused ``conflict``). The same transaction writes the account's erasure
job; the rest (profile, notifications, reactions, messages, uploads) is the worker's
(``erasure_worker.py``), off the request and resumable after a crash.

Errors: ``unauthorized`` (a wrong password, the login's answer; nothing changes), ``rate_limited``
(more than ``WRONG_PASSWORDS_PER_HOUR`` wrong passwords for the account in an hour), ``forbidden``
(an account that signs in only through single sign-on has no password to confirm with: an operator
erases it; a bot erases nothing itself), ``not_found`` (an operator naming no account).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from db.records import UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.accounts.security import PasswordHasher
from server.chat.accounts.users import WRONG_CREDENTIALS
from server.chat.conversations.messages import ERASED_NAME
from server.chat.kernel.actors import CLI, Actor, Doer
from server.chat.kernel.budgets import SharedLimit, per_hour
from server.chat.kernel.errors import ChatError, ErrorCode, forbidden, not_found, rate_limited
from server.chat.kernel.events import MembershipChanged, SessionsRevoked, TokenRevoked, UserDeleted
from server.chat.kernel.facts import Acted
from server.chat.operators.erasure_worker import ErasureWorker
from server.chat.operators.schemas import ErasureOut
from server.chat.rules.access import user_named

WRONG_PASSWORDS_PER_HOUR = 10
SSO_ONLY = (
    "this account signs in through single sign-on and has no password to confirm with; "
    "an operator can erase it (parley user delete NAME --erase)"
)


class ErasureService:
    def __init__(
        self, db: Database, hasher: PasswordHasher, worker: ErasureWorker, attempts: SharedLimit | None = None
    ) -> None:
        self.db = db
        self.hasher = hasher
        self.worker = worker  # woken when a job was written
        # A stolen token must not become a password oracle: wrong passwords per account are few.
        self.attempts = attempts or per_hour("erasure-passwords", WRONG_PASSWORDS_PER_HOUR)

    async def erase_me(self, actor: Actor, password: str) -> ErasureOut:
        """The user's own request, confirmed with their password."""
        if actor.bot:
            raise forbidden("a bot account is erased by its owner's erasure or an operator")
        async with self.db.read() as repos:
            user = await repos.users.by_id(actor.id)
            linked = await repos.erasure.has_identity(actor.id)
        if user is None or user.deleted_at is not None:
            raise ChatError(ErrorCode.UNAUTHORIZED, WRONG_CREDENTIALS)
        wait = await self.attempts.take(str(actor.id))
        if wait > 0:
            raise rate_limited("too many erasure attempts with a wrong password; try later", wait)
        if not await self.hasher.verify(password, user.password_hash):
            if linked:
                raise forbidden(SSO_ONLY)
            raise ChatError(ErrorCode.UNAUTHORIZED, WRONG_CREDENTIALS)  # the attempt stays counted
        await self.attempts.give_back(str(actor.id))
        return (await self._begin(lambda repos: _live(repos, actor.id), Doer.of(actor))).out

    async def erase(self, username: str, *, finish_here: bool = False, by: Doer = CLI) -> ErasureOut:
        """The operator's (``parley user delete NAME --erase``) and a workspace admin's (``by``,
        PROTOCOL.md section 19): no password asked. With ``finish_here`` (the command line, where
        no worker runs) the job is run to its end here, unless a running server took it first
        (``state`` stays ``erasing``: that server finishes)."""
        began = await self._begin(lambda repos: _named(repos, username), by)
        if finish_here and await self.worker.run(began.user_id):
            return began.out.model_copy(update={"state": "erased"})
        return began.out

    async def _begin(self, account: Callable[[Repositories], Awaitable[UserRecord]], by: Doer) -> Began:
        """The asking transaction; its audit row (``user.erase``, the name before) goes with it."""
        unguessable = await self.hasher.hash(secrets.token_urlsafe(32))
        async with self.db.write() as repos:
            user = await account(repos)
            now = datetime.now(UTC)
            topics = await repos.memberships.of_user(user.id)
            for topic, _membership in topics:
                await repos.memberships.remove(topic.id, user.id)
                repos.record(MembershipChanged(user.id, topic.id, joined=False))
            await repos.users.update_fields(
                user.id,
                username=ERASED_NAME,  # every rendering joins this name; username_key stays: reserved
                password_hash=unguessable,
                disabled_at=user.disabled_at or now,
                deleted_at=now,
            )
            await _revoke(repos, user.id)
            bots = await repos.bots.owned_by(user.id)
            for bot in bots:
                await _disable_bot(repos, bot, now)
            await repos.erasure.request(user.id, now)
            repos.record(UserDeleted(user.id, user.username))
            kept = await repos.messages.count_by_sender(user.id)
            details = {"messages": kept, "memberships_removed": len(topics), "bots_disabled": len(bots)}
            repos.note(Acted(by, "user.erase", user.username, details=details))
        self.worker.wake()
        out = ErasureOut(
            username=user.username,
            state="erasing",
            messages=kept,
            memberships_removed=len(topics),
            bots_disabled=len(bots),
        )
        return Began(user.id, out)


@dataclass(frozen=True)
class Began:
    user_id: int
    out: ErasureOut


async def _revoke(repos: Repositories, user_id: int) -> None:
    """Every token so far stops working; published after the commit, open sockets close."""
    await repos.users.bump_token_version(user_id)
    repos.record(SessionsRevoked(user_id))


async def _disable_bot(repos: Repositories, bot: UserRecord, now: datetime) -> None:
    if bot.disabled_at is None:
        await repos.users.update_fields(bot.id, disabled_at=now)
    for token_id in await repos.bots.revoke_tokens(bot.id, now):
        repos.record(TokenRevoked(bot.id, token_id))
    await _revoke(repos, bot.id)


async def _live(repos: Repositories, user_id: int) -> UserRecord:
    user = await repos.users.by_id(user_id)
    if user is None or user.deleted_at is not None:
        raise ChatError(ErrorCode.UNAUTHORIZED, WRONG_CREDENTIALS)
    return user


async def _named(repos: Repositories, username: str) -> UserRecord:
    user = await user_named(repos, username)
    if user.deleted_at is not None:
        raise not_found(f"no user named {username!r}")
    return user
