"""Link previews over REST (PROTOCOL.md section 13): the sender removes a message's previews, and
a preview's picture is served by Parley itself, so no reader's browser contacts the linked site.

A picture never changes once made (a refetch makes a new one with a new id), so it is cached by
the browser; ``private`` because who may read it depends on the reader.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from server.chat.kernel.schemas import MAX_STORED_INT, Empty
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES, documented

router = APIRouter(prefix="/api", tags=["previews"], responses=RESPONSES)
PLACE = 140  # its place among the API's routes and in the OpenAPI document (api.py)
Id = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]
CACHE_SECONDS = 7 * 86400
NOT_FOUND = documented({404: "No such picture, or one the caller may not read (the same answer)"})


@router.delete("/messages/{message_id}/previews")
async def remove(message_id: Id, actor: ActorDep, chat: ChatDep) -> Empty:
    """Drop a message's previews for good (its sender only); members get ``message:previews`` ``[]``."""
    await chat.previews.remove(actor, message_id)
    return Empty()


@router.get("/previews/{image_id}/image", responses=NOT_FOUND, response_class=Response)
async def image(image_id: Id, actor: ActorDep, chat: ChatDep) -> Response:
    """A preview's picture, re-encoded by Parley, to anyone who may read a message showing it."""
    picture = await chat.previews.picture(actor, image_id)
    headers = {
        "Cache-Control": f"private, max-age={CACHE_SECONDS}, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
    }
    return Response(picture.data, media_type=picture.content_type, headers=headers)
