"""Where a message goes, once resolved: the one type every service passes around for it.

``schemas.Target`` is what a client typed (a topic name or a username); a ``Place`` is what
that resolves to: the topic as stored and, for a direct conversation, the other member, whose
name the actor sees it by. The send path builds it from the in-memory directory, the other
services from the database (``access.py``); both hand the same value on.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.records import TopicRecord, UserRecord


@dataclass(frozen=True, slots=True)
class Place:
    topic_id: int
    name: str  # as stored: ``dm:<low id>:<high id>`` for a direct conversation
    kind: str  # ``public``, ``private`` or ``direct``
    peer_id: int | None = None  # a direct conversation's other member
    peer_name: str | None = None
    owner_id: int | None = None
    archived: bool = False  # read-only for everyone (PROTOCOL.md section 10)

    @property
    def shown_as(self) -> str:
        """The name the actor sees: ``@other`` for a direct conversation."""
        return f"@{self.peer_name}" if self.peer_name is not None else self.name

    @property
    def direct(self) -> bool:
        return self.kind == "direct"


def place_of_topic(topic: TopicRecord, peer: UserRecord | None = None) -> Place:
    """A stored topic as a place (``peer``: a direct conversation's other member)."""
    archived = topic.archived_at is not None
    if peer is None:
        return Place(topic.id, topic.name, topic.kind, owner_id=topic.owner_id, archived=archived)
    return Place(topic.id, topic.name, topic.kind, peer.id, peer.username, topic.owner_id, archived)
