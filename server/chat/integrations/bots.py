"""Bot accounts and their API tokens (PROTOCOL.md section 12).

A bot is a user with ``bot`` set, an owner (a user, never a bot) and no password: it cannot log
in, it authenticates with API tokens its owner makes (``pb_...``, shown once, stored as SHA-256,
see ``server.chat.accounts.api_tokens``), and then acts as any member does (membership, bans, mutes and
rate limits apply). Its name is taken from the one namespace of users and topics.

Errors: ``invalid`` (a bad name or label), ``conflict`` (the name is taken), ``forbidden`` (a bot
may not own bots), ``not_found`` (no bot of that name owned by the caller, or no such token: the
same answer, so nobody learns of others' bots). Revoking a token records ``TokenRevoked``: the
sockets that use it close on every node. ``disable`` revokes every token and closes every socket
of the bot, as ``parley user disable`` does.

For other services (incoming and outgoing webhooks): ``create_bot`` makes a bot, ``actor``
turns a stored bot into the ``Actor`` that posts as it, and ``post`` sends as that actor into a
topic by id, optionally as a thread reply (given any message of the thread), through the one
send path (``MessageService.send``: membership, mutes, mentions, search, fan-out, ``client_id``
idempotency). ``post`` raises ``invalid`` (a bad body or thread), ``not_found`` (no such topic)
and whatever a send raises (``forbidden``: not a member, muted, archived).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from pydantic import TypeAdapter, ValidationError

from db.records import UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.accounts import api_tokens
from server.chat.accounts.users import UserService
from server.chat.conversations.messages import MessageService
from server.chat.integrations.hook_bots import disable_bot
from server.chat.integrations.schemas import (
    BotOut,
    BotRowOut,
    BotRowsOut,
    BotsOut,
    TokenCreatedOut,
    TokenInfoOut,
    TokensOut,
)
from server.chat.kernel.actors import CLI, Actor, Doer
from server.chat.kernel.errors import forbidden, invalid, not_found
from server.chat.kernel.events import TokenRevoked
from server.chat.kernel.facts import Acted
from server.chat.kernel.schemas import NAME_CHARS, ClientId, MessageOut, Target, check_body
from server.chat.kernel.views import iso_required

NO_PASSWORD = "!"  # no bcrypt hash looks like this: no password can ever match
USERNAME = re.compile(rf"{NAME_CHARS}{{3,32}}")
MAX_LABEL = 64
CLIENT_ID: TypeAdapter[str] = TypeAdapter(ClientId)


class BotService:
    def __init__(self, db: Database, users: UserService, messages: MessageService) -> None:
        self.db = db
        self.users = users
        self.messages = messages

    async def create_bot(self, owner: Actor, username: str, by: Doer | None = None) -> UserRecord:
        """A new bot owned by ``owner`` (a user), created by ``by`` (the owner unless the operator
        made it). ``invalid``, ``conflict``, ``forbidden``."""
        if owner.bot:
            raise forbidden("a bot cannot own bots")
        if not USERNAME.fullmatch(username):
            raise invalid("a bot's name is 3 to 32 letters, digits, '_', '.' or '-'")
        acted = Acted(by or Doer.of(owner), "bot.create", username, details={"owner": owner.username})
        return await self.users.add_account(username, NO_PASSWORD, owner_id=owner.id, noted=(acted,))

    async def create(self, owner: Actor, username: str, by: Doer | None = None) -> BotOut:
        """``POST /api/bots``: ``create_bot``, as the owner sees it."""
        bot = await self.create_bot(owner, username, by)
        return BotOut(username=bot.username, owner=owner.username)

    async def create_for(self, owner_name: str, username: str) -> BotOut:
        """``parley bot create NAME --owner USER`` (``not_found``: no such user)."""
        async with self.db.read() as repos:
            owner = await repos.users.by_name(owner_name)
        if owner is None or owner.deleted_at is not None:
            raise not_found(f"no user named {owner_name!r}")
        return await self.create(Actor(owner.id, owner.username, owner.bot), username, CLI)

    async def list(self, owner: Actor) -> BotsOut:
        """The caller's bots (not disabled), oldest first."""
        async with self.db.read() as repos:
            bots = await repos.bots.owned_by(owner.id)
        return BotsOut(bots=[BotOut(username=bot.username, owner=owner.username) for bot in bots])

    async def list_all(self) -> BotRowsOut:
        """Every bot, for operators (``parley bot list``)."""
        async with self.db.read() as repos:
            bots = await repos.bots.all()
            owners = {user.id: user.username for user in await repos.users.by_ids(_owners(bots))}
        return BotRowsOut(
            bots=[
                BotRowOut(
                    username=bot.username,
                    owner=owners.get(bot.owner_id) if bot.owner_id is not None else None,
                    state="disabled" if bot.disabled_at else "active",
                    created_at=iso_required(bot.created_at),
                )
                for bot in bots
            ]
        )

    async def disable(self, owner: Actor | None, name: str) -> None:
        """``DELETE /api/bots/{name}``: no more connections; every token revoked, every socket closed."""
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            bot = await _bot(repos, owner, name)
            await disable_bot(repos, bot.id, now)
            repos.note(Acted(_by(owner), "bot.disable", bot.username))

    async def actor(self, bot_id: int) -> Actor | None:
        """The ``Actor`` a service posts as for a bot (None: no such bot, or it is disabled)."""
        async with self.db.read() as repos:
            bot = await repos.users.by_id(bot_id)
        if bot is None or not bot.bot or bot.disabled_at is not None or bot.deleted_at is not None:
            return None
        return Actor(bot.id, bot.username, bot=True)

    async def post(
        self, bot: Actor, topic_id: int, text: str, thread: int | None = None, client_id: str | None = None
    ) -> MessageOut:
        """Send ``text`` as ``bot`` in the topic ``topic_id``; with ``thread`` (any message of a
        thread of that topic, or its root) as a reply in that thread. A repeated ``client_id``
        stores nothing and answers the original message."""
        try:
            body = check_body(text)
        except ValueError as exc:
            raise invalid(f"text: {exc}") from None
        try:
            key = CLIENT_ID.validate_python(client_id) if client_id is not None else None
        except ValidationError:
            raise invalid("a client id is 1 to 64 characters without control characters") from None
        async with self.db.read() as repos:
            topic = await repos.topics.by_id(topic_id)
            if topic is None or topic.kind == "direct":
                raise not_found("the topic is gone")
            root = await _thread_root(repos, topic_id, thread) if thread is not None else None
        return await self.messages.send(bot, Target(topic=topic.name), body, key, thread=root)

    # Tokens --------------------------------------------------------------------------

    async def create_token(self, owner: Actor | None, name: str, label: str = "") -> TokenCreatedOut:
        """A new API token of the bot (``owner`` None: an operator). The token is in this answer only."""
        if len(label) > MAX_LABEL:
            raise invalid(f"a label is at most {MAX_LABEL} characters")
        token = api_tokens.new_token()
        async with self.db.write() as repos:
            bot = await _bot(repos, owner, name)
            token_id = secrets.token_hex(16)
            await repos.bots.add_token(token_id, bot.id, label, api_tokens.digest(token), datetime.now(UTC))
            details = {"token_id": token_id, "label": label}  # never the token
            repos.note(Acted(_by(owner), "bot.token.create", bot.username, details=details))
        return TokenCreatedOut(id=token_id, token=token)

    async def tokens(self, owner: Actor | None, name: str) -> TokensOut:
        """The bot's tokens not revoked (never the tokens themselves), oldest first."""
        async with self.db.read() as repos:
            bot = await _bot(repos, owner, name)
            tokens = await repos.bots.tokens_of(bot.id)
        return TokensOut(
            tokens=[
                TokenInfoOut(id=token.id, label=token.label, created_at=iso_required(token.created_at))
                for token in tokens
            ]
        )

    async def revoke_token(self, owner: Actor | None, name: str, token_id: str) -> None:
        """Revoke one token; the sockets that connected with it close (on every node)."""
        async with self.db.write() as repos:
            bot = await _bot(repos, owner, name)
            if not await repos.bots.revoke_token(bot.id, token_id, datetime.now(UTC)):
                raise not_found(f"{bot.username!r} has no token {token_id!r}")
            repos.record(TokenRevoked(bot.id, token_id))
            repos.note(Acted(_by(owner), "bot.token.revoke", bot.username, details={"token_id": token_id}))


def _by(owner: Actor | None) -> Doer:
    """Who an audit row names: the owner, or the operator at the command line (``owner`` None)."""
    return CLI if owner is None else Doer.of(owner)


async def _bot(repos: Repositories, owner: Actor | None, name: str) -> UserRecord:
    """The bot named ``name`` owned by ``owner`` (any owner for None: an operator), not disabled
    when an owner asks; ``not_found`` otherwise, whatever the reason."""
    bot = await repos.users.by_name(name)
    if bot is None or not bot.bot or bot.deleted_at is not None:
        raise not_found(f"you have no bot named {name!r}")
    if owner is not None and (bot.owner_id != owner.id or bot.disabled_at is not None):
        raise not_found(f"you have no bot named {name!r}")
    return bot


async def _thread_root(repos: Repositories, topic_id: int, message_id: int) -> int:
    """The root of the thread ``message_id`` is in (itself when it is a root); ``invalid`` if it is
    no live message of the topic."""
    message = await repos.messages.by_id(message_id)
    if message is None or message.topic_id != topic_id or message.deleted_at is not None:
        raise invalid(f"no message {message_id} in this topic to reply to")
    return message.extras.thread_root_id or message.id


def _owners(bots: list[UserRecord]) -> set[int]:
    return {bot.owner_id for bot in bots if bot.owner_id is not None}
