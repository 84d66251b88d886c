"""What users do with previews (PROTOCOL.md section 13): the sender removes a message's previews;
a reader fetches a preview's picture, which Parley serves so that no reader's browser contacts the
linked site.

Errors: ``not_found`` (a message or picture the user may not read, worded as for a missing one),
``forbidden`` (removing the previews of someone else's message).
"""

from __future__ import annotations

from db.previews.repository import StoredPicture
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, forbidden, not_found
from server.chat.previews.events import previews_changed
from server.chat.rules.access import locate_message

# Messages looked at to find one the reader may read: only those of topics the reader may read
# are looked at (public ones first), so messages of other private topics never use them up.
CARRIERS = 20


class PreviewService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def remove(self, actor: Actor, message_id: int) -> None:
        """For good: an edit of the message brings none back. Members get ``message:previews`` ``[]``."""
        async with self.db.write() as repos:
            message, place = await locate_message(repos, actor, message_id, lock=True)
            if message.sender_id != actor.id:
                raise forbidden("only the sender may remove a message's previews")
            await repos.previews.remove(message_id)
            repos.record(*previews_changed(place, actor, message_id, ()))

    async def picture(self, actor: Actor, image_id: int) -> StoredPicture:
        """A preview's picture, to anyone who may read a message showing it. The repository picks
        messages of topics the reader may read; ``locate_message`` stays the rule that decides."""
        async with self.db.read() as repos:
            for message_id, _topic_id, _kind in await repos.previews.showing(image_id, actor.id, CARRIERS):
                try:
                    await locate_message(repos, actor, message_id)
                except ChatError:
                    continue
                picture = await repos.previews.picture(image_id)
                if picture is not None:
                    return picture
        raise not_found(f"no preview picture {image_id}")
