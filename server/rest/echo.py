"""Echo transcripts over REST, newest first, paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.chat.schemas import MAX_STORED_INT, TranscriptsOut
from server.rest.deps import ActorDep, ChatDep

router = APIRouter(prefix="/api/echo", tags=["echo"])


@router.get("/history")
async def history(
    actor: ActorDep,
    chat: ChatDep,
    offset: Annotated[int, Query(ge=0, le=MAX_STORED_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TranscriptsOut:
    return await chat.echo.history(actor, offset, limit)
