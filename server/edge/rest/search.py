"""Search over REST (PROTOCOL.md section 9): ``GET /api/search``, the ``search`` event's twin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.chat.schemas import NAME_CHARS, SearchCursor, SearchPageOut, SearchText
from server.edge.http import ActorDep, ChatDep

router = APIRouter(prefix="/api/search", tags=["search"])


@router.get("")
async def search(
    actor: ActorDep,
    chat: ChatDep,
    q: Annotated[SearchText, Query(description="the query (PROTOCOL.md section 9), 1-256 characters")],
    topic: Annotated[str | None, Query(pattern=rf"^{NAME_CHARS}{{1,64}}$")] = None,
    with_: Annotated[str | None, Query(alias="with", pattern=rf"^{NAME_CHARS}{{3,32}}$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[SearchCursor | None, Query(description="`next` of the previous page")] = None,
) -> SearchPageOut:
    """The messages the caller may read that match ``q``, newest first (at most one of ``topic``
    and ``with`` restricts them to one topic or direct conversation)."""
    return await chat.search.search(actor, q, topic, with_, cursor, limit)
