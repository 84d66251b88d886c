"""Pins: a topic's pinned messages, each change a system message in the topic's log.

PROTOCOL.md section 8. In a public or private topic owners, admins and moderators pin; in a
direct conversation both members. At most ``MAX_PINS`` per topic (``invalid``). Pinning a pinned
message (or unpinning one that is not) changes nothing and answers the pins as they are. A change
goes through the send path as a system message (``{"action": "pin" | "unpin", "id"}``) that
carries the change itself, so the pin and the message that tells it are stored in one
transaction with the next ``seq``; then the members get ``pins:updated``.
"""

from __future__ import annotations

from collections.abc import Sequence

from db.records import Extras
from db.sends import PinChange
from db.uow import Database
from server.chat.conversations.directory import Directory
from server.chat.conversations.message_events import Row, pins_changed
from server.chat.conversations.messages import MessageService
from server.chat.conversations.schemas import PinnedOut, PinsOut
from server.chat.conversations.writer import Destination
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import forbidden, invalid
from server.chat.kernel.places import Place
from server.chat.kernel.schemas import Target
from server.chat.kernel.views import message_view
from server.chat.rules.access import locate_message, place_of, require_readable
from server.chat.rules.authority import MEMBER, Act, check, standing_of

MAX_PINS = 50


class PinService:
    def __init__(self, db: Database, directory: Directory, messages: MessageService) -> None:
        self.db = db
        self.directory = directory
        self.messages = messages

    async def pin(self, actor: Actor, message_id: int, pinned: bool = True) -> PinnedOut:
        async with self.db.read() as repos:
            message, place = await locate_message(repos, actor, message_id)
            if message.extras.type == "system":
                raise invalid("a system message cannot be pinned")
            membership = await repos.memberships.get(place.topic_id, actor.id)
            roles = self.directory.roles  # the workspace's owners and admins (section 19)
            if membership is None and not roles.acts_in(actor.id, place.kind):
                # a public topic's message (locate_message hides the others')
                raise forbidden(f"only members of {place.name!r} may pin its messages")
            standing = MEMBER if membership is None else standing_of(membership)
            check(
                Act.PIN,
                roles.standing(standing, actor.id, place.kind),
                kind=place.kind,
                archived=place.archived,
                where=repr(place.name),
            )
            pins = await repos.messages.pinned(place.topic_id)
        if message.extras.pinned == pinned:
            return self._pinned(actor, place, pins)
        if pinned and len(pins) >= MAX_PINS:
            raise invalid(f"a topic has at most {MAX_PINS} pinned messages")
        action = "pin" if pinned else "unpin"
        system = {"action": action, "actor": actor.username, "id": message_id}
        change = Destination(
            place, Extras(type="system", system=system), pin=PinChange(message_id, pinned, actor.id)
        )

        async def destination() -> Destination:
            return change

        await self.messages.writer.submit(actor, destination, f"{actor.username} {action}ned a message", None)
        async with self.db.read() as repos:
            pins = await repos.messages.pinned(place.topic_id)
        members = await self.directory.members(place.topic_id)
        await self.db.announce(list(pins_changed(place, actor, pins, members)))
        return self._pinned(actor, place, pins)

    async def unpin(self, actor: Actor, message_id: int) -> PinnedOut:
        return await self.pin(actor, message_id, pinned=False)

    async def list(self, actor: Actor, target: Target) -> PinsOut:
        """The pinned messages of a topic the actor may read (or of a direct conversation), newest
        pin first."""
        async with self.db.read() as repos:
            place = await place_of(repos, actor, target)
            if place is None:  # a direct conversation not started: nothing pinned
                return PinsOut(pins=[])
            await require_readable(repos, place, actor)
            pins = await repos.messages.pinned(place.topic_id)
        blocked = await self.directory.blocks.blocked_by(actor.id)  # PROTOCOL.md section 10
        return PinsOut(
            pins=[
                message_view(m, sender, place.kind, place.shown_as, actor.id, m.sender_id in blocked)
                for m, sender in pins
            ]
        )

    def _pinned(self, actor: Actor, place: Place, pins: Sequence[Row]) -> PinnedOut:
        return PinnedOut(
            topic=place.shown_as,
            pins=[message_view(m, sender, place.kind, place.shown_as, actor.id) for m, sender in pins],
        )
