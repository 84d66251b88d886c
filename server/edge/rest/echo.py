"""Echo transcripts over REST, newest first, paged by id (PROTOCOL.md section 5).

At most 20 a page (``?limit=`` 1-20); ``?before=`` is the oldest id of the previous page. The
answer is ``server.edge.http.echo_history``'s, as on the echo dialect's ``/compat/echo/history``.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from server.chat.echo.schemas import TranscriptsOut
from server.chat.echo.service import PAGE
from server.edge.http import ActorDep, ChatDep, echo_history
from server.edge.rest.errors import RESPONSES
from server.edge.shapes import HistoryBefore, HistoryLimit

router = APIRouter(prefix="/api/echo", tags=["echo"], responses=RESPONSES)
PLACE = 80  # its place among the API's routes and in the OpenAPI document (api.py)


@router.get("/history", response_model=TranscriptsOut)
async def history(
    actor: ActorDep, chat: ChatDep, before: HistoryBefore = None, limit: HistoryLimit = PAGE
) -> Response:
    """The caller's transcripts, newest first, at most ``limit`` older than ``before``."""
    return await echo_history(chat, actor, before, limit)
