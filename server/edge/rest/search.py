"""Search over REST (PROTOCOL.md section 9): ``GET /api/search``, the ``search`` event's twin.

The query parameters are validated by the event's own model (``SearchIn``), so its rules (the
lengths, the name patterns, at most one of ``topic`` and ``with``) live in one place: the route
once copied them into ``Query`` declarations, without the last, and answered an empty page where
the event answered ``invalid``. The declarations here only name and describe the parameters.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from server.chat.search.schemas import SearchIn, SearchPageOut
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/search", tags=["search"], responses=RESPONSES)
PLACE = 100  # its place among the API's routes and in the OpenAPI document (api.py)


async def search_query(
    q: Annotated[str, Query(description="the query (PROTOCOL.md section 9), 1-256 characters")],
    topic: Annotated[str | None, Query(description="only this topic")] = None,
    with_: Annotated[str | None, Query(alias="with", description="only the conversation with them")] = None,
    limit: Annotated[int, Query(description="hits per page, 1-100")] = 20,
    cursor: Annotated[str | None, Query(description="`next` of the previous page")] = None,
) -> SearchIn:
    given = {"q": q, "topic": topic, "with": with_, "limit": limit, "cursor": cursor}
    try:
        return SearchIn.model_validate({name: value for name, value in given.items() if value is not None})
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


@router.get("")
async def search(
    actor: ActorDep, chat: ChatDep, query: Annotated[SearchIn, Depends(search_query)]
) -> SearchPageOut:
    """The messages the caller may read that match ``q``, newest first (at most one of ``topic``
    and ``with`` restricts them to one topic or direct conversation)."""
    return await chat.search.search(actor, query.q, query.topic, query.with_, query.cursor, query.limit)
