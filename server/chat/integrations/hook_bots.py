"""What becomes of the bot of a removed webhook or revoked incoming hook (PROTOCOL.md section 12):
not a member posting nowhere, nor an enabled account no one uses.

A webhook always gets a bot made for it; a hook gets one unless its creator named a bot of theirs
(``hooks.bot_made``). Once the webhook or hook is gone (marked so in the caller's transaction,
before ``retire`` is called), its bot:

- leaves the topic, unless another live hook or webhook of that topic still posts as it;
- is disabled (every token revoked, every socket closed, as ``DELETE /api/bots/{name}``) when it
  was made for the one removed and no live hook or webhook anywhere uses it. A bot its owner named
  is theirs: it only leaves the topic.

Deleting a topic removes its webhooks and hooks (``topic_admin``); their made bots are disabled the
same way (the memberships go with the topic).
"""

from __future__ import annotations

from datetime import datetime

from db.repositories import Repositories
from server.chat.kernel.events import MembershipChanged, SessionsRevoked, TokenRevoked


async def retire(repos: Repositories, topic_id: int, bot_id: int, made: bool, now: datetime) -> bool:
    """The removed hook's or webhook's bot leaves ``topic_id`` (unless still used there) and is
    disabled if ``made`` for it and used nowhere else. True when it left the topic."""
    hooks = await repos.hooks.live_of_bot(bot_id)
    webhooks = await repos.webhooks.active_of_bot(bot_id)
    still_here = any(hook.topic_id == topic_id for hook in hooks) or any(
        webhook.topic_id == topic_id for webhook in webhooks
    )
    left = False
    if not still_here and await repos.memberships.get(topic_id, bot_id) is not None:
        await repos.memberships.remove(topic_id, bot_id)
        repos.record(MembershipChanged(bot_id, topic_id, joined=False))
        left = True
    if made and not hooks and not webhooks:
        await disable_bot(repos, bot_id, now)
    return left


async def disable_bot(repos: Repositories, bot_id: int, now: datetime) -> None:
    """No more connections: disabled, every token revoked, every socket closed on every node."""
    user = await repos.users.by_id(bot_id)
    if user is None or user.disabled_at is not None:
        return
    await repos.users.update_fields(bot_id, disabled_at=now)
    await repos.users.bump_token_version(bot_id)
    for token_id in await repos.bots.revoke_tokens(bot_id, now):
        repos.record(TokenRevoked(bot_id, token_id))
    repos.record(SessionsRevoked(bot_id))
