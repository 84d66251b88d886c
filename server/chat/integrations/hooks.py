"""Incoming webhooks (PROTOCOL.md section 12): a secret URL that posts into one topic as a bot.

An owner or admin of a topic creates a hook, naming one of their bots or letting one be made
(``<topic>-hook``, or with a numeric suffix when taken); the bot is made a member of the topic.
The URL's secret (``secrets.token_urlsafe(24)``) is in the answer once and stored as its SHA-256.
Whoever has the URL posts with ``post``: the text goes through ``BotService.post`` (the normal
send path, so mentions, search, fan-out and ``client_id`` idempotency all apply), at most
``per_minute`` posts per hook (a burst of that many, then that rate).

Errors: ``not_found`` (no such topic, a private topic the caller is not in, an unknown or revoked
secret or hook), ``forbidden`` (not an owner or admin of the topic), ``invalid`` (a bot the caller
does not own, a bad text or thread), ``rate_limited`` (the hook's budget is spent).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from db.records import HookRecord, TopicRecord, UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.accounts import api_tokens
from server.chat.integrations.bots import BotService
from server.chat.integrations.hook_bots import retire
from server.chat.integrations.schemas import HookCreatedOut, HookInfoOut, HookPostedOut, HooksOut
from server.chat.kernel.actors import Actor, Doer
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.errors import (
    ChatError,
    ErrorCode,
    forbidden,
    invalid,
    no_topic,
    not_found,
    rate_limited,
)
from server.chat.kernel.events import MembershipChanged
from server.chat.kernel.facts import Acted
from server.chat.kernel.views import iso_required
from server.chat.rules.access import named_topic
from server.chat.rules.workspace import Roles

MANAGERS = frozenset({"owner", "admin"})
MAX_NAME = 32  # a username's length limit: the made bot's name fits it
NAME_TRIES = 20
NO_HOOK = "no such hook"


class HookService:
    def __init__(
        self, db: Database, bots: BotService, limit: SharedLimit | None = None, roles: Roles | None = None
    ) -> None:
        self.db = db
        self.bots = bots
        self.roles = roles  # the workspace's owners and admins manage every public topic's hooks
        self.limit = limit or SharedLimit("hook-posts", 60, 60.0)  # posts a minute to one hook

    async def create(self, actor: Actor, topic: str, bot_name: str | None = None) -> HookCreatedOut:
        """A hook of the topic posting as ``bot_name`` (the caller's) or as a bot made for it."""
        async with self.db.read() as repos:
            found = await _managed(repos, actor, topic, self.roles)
            named = await repos.users.by_name(bot_name) if bot_name is not None else None
        if bot_name is not None:
            if named is None or not named.bot or named.owner_id != actor.id or named.disabled_at is not None:
                raise invalid(f"you have no bot named {bot_name!r}")
            bot = named
        else:
            bot = await self._new_bot(actor, found.name)
        secret = secrets.token_urlsafe(24)
        hook_id = secrets.token_hex(16)
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            found = await _managed(repos, actor, topic, self.roles)  # still theirs to manage
            if await repos.bans.active(found.id, bot.id):
                raise invalid(f"{bot.username!r} is banned from {found.name!r}")
            if await repos.memberships.get(found.id, bot.id) is None:
                await repos.memberships.add(found, bot.id, "member", now)
                repos.record(MembershipChanged(bot.id, found.id, joined=True))
            digest = api_tokens.digest(secret)
            await repos.hooks.add_hook(
                hook_id, found.id, bot.id, digest, actor.id, now, bot_made=bot_name is None
            )
            details = {"bot": bot.username}  # never the secret
            repos.note(Acted(Doer.of(actor), "hook.create", hook_id, found.name, details))
        return HookCreatedOut(id=hook_id, url=f"/hooks/{secret}")

    async def list(self, actor: Actor, topic: str) -> HooksOut:
        """The topic's hooks (never their secrets), oldest first; owners and admins only."""
        async with self.db.read() as repos:
            found = await _managed(repos, actor, topic, self.roles)
            hooks = await repos.hooks.hooks_of(found.id)
        return HooksOut(
            hooks=[
                HookInfoOut(id=hook.id, bot=bot, created_at=iso_required(hook.created_at))
                for hook, bot in hooks
            ]
        )

    async def revoke(self, actor: Actor, topic: str, hook_id: str) -> None:
        """The hook's URL stops working at once; its bot leaves the topic, and is disabled when
        it was made for this hook (``hook_bots.retire``)."""
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            found = await _managed(repos, actor, topic, self.roles)
            hook = await repos.hooks.hook_of(found.id, hook_id)
            if hook is None or not await repos.hooks.revoke_hook(found.id, hook_id, now):
                raise not_found(NO_HOOK)
            await retire(repos, found.id, hook.bot_id, hook.bot_made, now)
            repos.note(Acted(Doer.of(actor), "hook.revoke", hook_id, found.name))

    async def post(
        self, secret: str, text: str, thread: int | None = None, client_id: str | None = None
    ) -> HookPostedOut:
        """Post ``text`` as the hook's bot in its topic (a thread reply with ``thread``)."""
        hook = await self.post_check(secret)
        wait = await self.limit.take(hook.id)
        if wait > 0:
            raise rate_limited("too many posts to this hook; try later", wait)
        bot = await self.bots.actor(hook.bot_id)
        if bot is None:
            raise not_found(NO_HOOK)  # its bot was disabled or deleted
        message = await self.bots.post(bot, hook.topic_id, text, thread, client_id)
        return HookPostedOut(id=message.id, seq=message.seq)

    async def post_check(self, secret: str) -> HookRecord:
        """The live hook of that secret; ``not_found`` for an unknown or revoked one."""
        async with self.db.read() as repos:
            hook = await repos.hooks.hook_by_hash(api_tokens.digest(secret))
        if hook is None:
            raise not_found(NO_HOOK)
        return hook

    async def _new_bot(self, actor: Actor, topic: str) -> UserRecord:
        """``<topic>-hook``, or ``<topic>-hook-2`` and on when taken (cut to fit a username)."""
        for n in range(1, NAME_TRIES + 1):
            suffix = "-hook" if n == 1 else f"-hook-{n}"
            name = topic[: MAX_NAME - len(suffix)] + suffix
            try:
                return await self.bots.create_bot(actor, name)
            except ChatError as exc:
                if exc.code is not ErrorCode.CONFLICT:
                    raise
        raise invalid("no free name for the hook's bot: name one with 'bot'")


async def _managed(repos: Repositories, actor: Actor, name: str, roles: Roles | None) -> TopicRecord:
    """The topic, if the actor is its owner or an admin (or, in a public topic, an owner or admin
    of the workspace: PROTOCOL.md section 19): ``not_found`` for a private topic they are not in,
    ``forbidden`` otherwise."""
    topic = await named_topic(repos, name)
    if roles is not None and roles.acts_in(actor.id, topic.kind):
        return topic
    membership = await repos.memberships.get(topic.id, actor.id)
    if membership is None and topic.kind != "public":
        raise no_topic(name)
    if membership is None or membership.role not in MANAGERS:
        raise forbidden(f"only the owner and admins of {topic.name!r} manage its hooks")
    return topic
