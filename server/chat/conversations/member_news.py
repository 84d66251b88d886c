"""``topic:member`` (PROTOCOL.md section 4): a topic's online members hear who joined or left.

Every change of a topic's members records ``MembershipChanged`` (a join, an invite, an admin's
add, a leave, a kick, a ban, an account deleted or erased, a bot made or removed by a webhook).
That event moves the member's sockets; this commit handler (``Database.before_commit``) turns each
one into what the topic's members are told, in the change's own transaction: so no path that
changes members can forget to tell them, and a page's members list and count follow live on every
node instead of at its next poll.

Nothing is said of a direct conversation (its two members never change) nor of a topic deleted in
the same transaction (its members hear ``topic:deleted``). The joiner's sockets are in the topic's
room before the news goes out (the hub delivers in order), so they hear their own join; a leaver's
have left it, so they do not hear of their leaving (they get ``topic:removed`` where they were
removed). A ``left`` carries the role ``member``: the membership, and its role, are gone by then.
"""

from __future__ import annotations

from collections.abc import Sequence

from db.repositories import Repositories
from server.chat.kernel.events import MemberListChanged, MembershipChanged, ToTopic
from server.chat.rules.authority import RANKS


class MemberNews:
    async def __call__(self, repos: Repositories, recorded: Sequence[object]) -> None:
        changes = [event for event in recorded if isinstance(event, MembershipChanged)]
        for change in changes:
            topic = await repos.topics.by_id(change.topic_id)
            if topic is None or topic.kind == "direct":
                continue
            user = await repos.users.by_id(change.user_id)
            if user is None:
                continue
            role = "member"
            if change.joined:
                membership = await repos.memberships.get(topic.id, user.id)
                if membership is None:
                    continue  # joined and left again in the same transaction
                role = membership.role if membership.role in RANKS else "member"
            action = "joined" if change.joined else "left"
            repos.record(
                MemberListChanged(topic.name, user.username, action, role, ToTopic(topic.id), topic.id)
            )
