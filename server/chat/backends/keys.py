"""Server keys (PROTOCOL.md section 17): what lets an application's backend call ``/api/server/``.

A key is ``psk_`` and 43 URL-safe characters, shown once and stored as its SHA-256 (the digest of
bots' API tokens, ``server.chat.accounts.api_tokens``). It is not a user's credential: a user
token check never finds it (it is neither a JWT nor a ``pb_`` token), so it is refused everywhere
but the server API. Each key holds scopes (``SCOPES``; all but ``as_user`` unless chosen) and a
bot made with it, named after its label, that its messages are sent as.

``check`` finds the live key of a secret; the keys checked lately are kept by hash
(``KnownKeys``), so a backend's burst of calls costs one query. A revocation is recorded as
``TokenRevoked`` (the key is the bot's credential), which every node's cache hears through the hub:
a revoked key is refused at once on every node. Each key has its own rate (``take``), counted for
the cluster when the cluster's budgets are there.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from db.backends.records import ServerKeyRecord
from db.backends.repository import ServerKeyRepository
from db.records import UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.accounts.api_tokens import digest
from server.chat.accounts.users import UserService
from server.chat.backends.schemas import DEFAULT_SCOPES, SCOPES, KeyCreatedOut, KeyInfoOut, KeysOut
from server.chat.kernel.actors import CLI, Actor, Doer
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.errors import ChatError, ErrorCode, forbidden, invalid, not_found, rate_limited
from server.chat.kernel.events import Event, NewsMissed, TokenRevoked
from server.chat.kernel.facts import Acted
from server.chat.kernel.schemas import check_text
from server.chat.kernel.views import iso_required

PREFIX = "psk_"
MAX_LABEL = 60  # "key:<label>" names the key in the audit log, whose actor is at most 64 characters
NO_PASSWORD = "!"  # no bcrypt hash looks like this: the key's bot can never log in
KEY_OWNER = 0  # a key's bot is owned by no user: the key is its only credential
MAX_NAME = 32
NAME_TRIES = 20
UNFIT = re.compile(r"[^A-Za-z0-9_.\-]+")
UNKNOWN = "the server key is not valid"


@dataclass(frozen=True)
class ServerKey:
    """A live key as a request carries it: what it may do and the bot it sends as."""

    id: str
    label: str
    scopes: frozenset[str]
    bot_id: int
    bot_name: str

    @property
    def bot(self) -> Actor:
        """The key's bot, as what it sends is sent by."""
        return Actor(self.bot_id, self.bot_name, bot=True)

    @property
    def doer(self) -> Doer:
        """Who the audit log names for what the key changes (``key:<label>``)."""
        return Doer(None, f"key:{self.label}")


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def bot_name_of(label: str, n: int = 1) -> str:
    """The username of a key's bot: the label, its unfit characters made '-', cut to fit, padded
    to three characters; ``-<n>`` after it from the second try on."""
    name = UNFIT.sub("-", label).strip("-.") or "key"
    if len(name) < 3:
        name = f"key-{name}"
    suffix = "" if n == 1 else f"-{n}"
    return name[: MAX_NAME - len(suffix)] + suffix


def checked_scopes(scopes: Iterable[str] | None) -> frozenset[str]:
    """The scopes asked for (the default for None); ``invalid`` for a name not in ``SCOPES``."""
    if scopes is None:
        return DEFAULT_SCOPES
    chosen = frozenset(scopes)
    unknown = sorted(chosen - set(SCOPES))
    if unknown:
        raise invalid(f"unknown scope {unknown[0]!r}: the scopes are {', '.join(SCOPES)}")
    if not chosen:
        raise invalid("a key needs at least one scope")
    return chosen


def checked_label(label: str) -> str:
    label = label.strip()
    if not 1 <= len(label) <= MAX_LABEL:
        raise invalid(f"a label is 1 to {MAX_LABEL} characters")
    try:
        return check_text(label)
    except ValueError as exc:
        raise invalid(f"label: {exc}") from None


class KnownKeys:
    """Keys checked lately, by hash (a hub sink): forgotten at once when one is revoked, and read
    again after ``max_age`` seconds in any case. Forgetting voids the lookups under way, so a read
    that began before a revocation cannot put the key back."""

    def __init__(self, max_age: float, max_size: int = 10_000) -> None:
        self.max_age = max_age
        self.max_size = max_size
        self._by_hash: dict[str, tuple[ServerKey, float]] = {}
        self._hash_of: dict[str, str] = {}
        self._forgotten = 0

    def get(self, key_hash: str) -> ServerKey | None:
        found = self._by_hash.get(key_hash)
        if found is None or time.monotonic() - found[1] > self.max_age:
            return None
        return found[0]

    def generation(self) -> int:
        return self._forgotten

    def remember(self, key_hash: str, key: ServerKey, since: int) -> None:
        if since != self._forgotten:
            return
        if len(self._by_hash) >= self.max_size:
            self._by_hash.clear()
            self._hash_of.clear()
        self._by_hash[key_hash] = (key, time.monotonic())
        self._hash_of[key.id] = key_hash

    def forget(self, key_id: str) -> None:
        self._forgotten += 1
        key_hash = self._hash_of.pop(key_id, None)
        if key_hash is not None:
            self._by_hash.pop(key_hash, None)

    async def deliver(self, event: Event) -> None:
        if isinstance(event, TokenRevoked):
            self.forget(event.token_id)
        elif isinstance(event, NewsMissed):  # a revocation may have been missed: read each again
            self._forgotten += 1
            self._by_hash.clear()
            self._hash_of.clear()


class ServerKeys:
    """Making, listing, revoking and checking server keys."""

    def __init__(self, db: Database, users: UserService, known: KnownKeys, limit: SharedLimit) -> None:
        self.db = db
        self.users = users
        self.known = known
        self.limit = limit

    async def check(self, secret: str) -> ServerKey:
        """The live key of ``secret``; ``unauthorized`` for a missing, unknown or revoked one."""
        if not secret or not secret.startswith(PREFIX):
            raise ChatError(ErrorCode.UNAUTHORIZED, UNKNOWN if secret else "a server key is required")
        key_hash = digest(secret)
        found = self.known.get(key_hash)
        if found is not None:
            return found
        since = self.known.generation()
        async with self.db.read() as repos:
            record = await repos.of(ServerKeyRepository).by_hash(key_hash)
        if record is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, UNKNOWN)
        key = _key(record)
        self.known.remember(key_hash, key, since)
        return key

    def require(self, key: ServerKey, scope: str) -> None:
        """``forbidden`` unless the key holds ``scope``."""
        if scope not in key.scopes:
            raise forbidden(f"this server key lacks the {scope!r} scope")

    async def take(self, key: ServerKey) -> None:
        """One request of the key's rate; ``rate_limited`` when it is spent."""
        wait = await self.limit.take(key.id)
        if wait > 0:
            raise rate_limited("too many requests with this server key; try later", wait)

    async def create(
        self, label: str, scopes: Iterable[str] | None = None, by: Doer | None = None
    ) -> KeyCreatedOut:
        """A new key and its bot (named after the label; a suffix when the name is taken), made by
        ``by`` (an admin, or the operator at the command line). The key is in this answer only."""
        label = checked_label(label)
        chosen = checked_scopes(scopes)
        secret = new_key()
        key_id = secrets.token_hex(16)
        who = by or CLI

        async def add_key(repos: Repositories, bot: UserRecord) -> None:
            now = datetime.now(UTC)
            await repos.of(ServerKeyRepository).add(
                key_id, label, digest(secret), chosen, bot.id, who.id, now
            )

        details = {"key_id": key_id, "scopes": sorted(chosen)}  # never the key
        acted = Acted(who, "server_key.create", label, details=details)
        for n in range(1, NAME_TRIES + 1):
            try:
                await self.users.add_account(
                    bot_name_of(label, n), NO_PASSWORD, owner_id=KEY_OWNER, noted=(acted,), admit=add_key
                )
                break
            except ChatError as exc:
                if exc.code is not ErrorCode.CONFLICT:
                    raise
        else:
            raise invalid("no free name for the key's bot: choose another label")
        return KeyCreatedOut(id=key_id, key=secret, label=label, scopes=sorted(chosen))

    async def list(self) -> KeysOut:
        """The keys not revoked (never the keys themselves), oldest first."""
        async with self.db.read() as repos:
            records = await repos.of(ServerKeyRepository).listed()
        return KeysOut(
            keys=[
                KeyInfoOut(
                    id=record.id,
                    label=record.label,
                    scopes=sorted(record.scopes),
                    bot=record.bot_name,
                    created_at=iso_required(record.created_at),
                )
                for record in records
            ]
        )

    async def revoke(self, key_id: str, by: Doer | None = None) -> None:
        """The key is refused from now on, on every node; ``not_found`` for no live key of that id."""
        async with self.db.write() as repos:
            record = await repos.of(ServerKeyRepository).by_id(key_id)
            if record is None or not await repos.of(ServerKeyRepository).revoke(key_id, datetime.now(UTC)):
                raise not_found(f"no server key {key_id!r}")
            repos.record(TokenRevoked(record.bot_id, key_id))
            details = {"key_id": key_id}
            repos.note(Acted(by or CLI, "server_key.revoke", record.label, details=details))


def _key(record: ServerKeyRecord) -> ServerKey:
    return ServerKey(record.id, record.label, frozenset(record.scopes), record.bot_id, record.bot_name)
