"""Backends' part of the composition (PROTOCOL.md section 17): the server keys, their cache of
keys checked lately (a hub sink, so a revocation on any node is heard on every node before the
next request) and each key's rate, counted for the cluster when the cluster's budgets are there;
and the server API's services over the conversations', moderation's, people's and email's."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.accounts.users import UserService
from server.chat.audit.log import AuditService
from server.chat.backends.keys import KnownKeys, ServerKeys
from server.chat.backends.members import ServerMembers
from server.chat.backends.publish import PublishAudit, Publisher
from server.chat.backends.users import ServerUsers
from server.chat.conversations.assembly import Conversations
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.wiring import Stage, Wiring
from server.chat.moderation.service import ModerationService
from server.chat.notifications.email import EmailService
from server.chat.people.service import PeopleService

KEY_CACHE_AGE = 10.0  # seconds a checked key is trusted without a read (a revocation forgets it at once)


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Each server key's rate (PROTOCOL.md section 17)."""

    server_key_rate: float  # requests a second with one key, after its burst
    server_key_burst: int  # requests one key may make at once


@dataclass(frozen=True)
class Backends:
    keys: ServerKeys
    publisher: Publisher
    members: ServerMembers
    users: ServerUsers


@dataclass(frozen=True)
class Services:
    """The services the server API works through."""

    users: UserService
    conversations: Conversations
    moderation: ModerationService
    people: PeopleService
    email: EmailService
    audit: AuditService


def build(w: Wiring, limits: Limits, on: Services) -> Backends:
    known = KnownKeys(KEY_CACHE_AGE)
    w.sink(Stage.IDENTITY, known)  # a revoked key, forgotten before the next request anywhere
    burst = limits.server_key_burst
    rate = SharedLimit("server-key", burst, burst / limits.server_key_rate, w.budgets)
    keys = ServerKeys(w.db, on.users, known, rate)
    on.conversations.send_hooks.append(PublishAudit())  # a publish's audit row, in its send batch
    return Backends(
        keys,
        Publisher(w.db, keys, on.conversations.messages, on.audit),
        ServerMembers(w.db, on.conversations.topics, on.moderation),
        ServerUsers(w.db, on.users, on.people, on.email, on.audit),
    )
