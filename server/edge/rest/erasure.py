"""Erasure over REST (PROTOCOL.md section 16): ``DELETE /api/users/me`` with the account's password.

Answered 202 once the account is disabled (tokens revoked, sockets closed on every node) and its
erasure job is stored; the rest happens off the request (``server.chat.operators.erasure_worker``).
"""

from __future__ import annotations

from fastapi import APIRouter

from server.chat.operators.schemas import ErasureIn, ErasureOut
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api", tags=["accounts"], responses=RESPONSES)
PLACE = 200  # its place among the API's routes and in the OpenAPI document (api.py)


@router.delete("/users/me", status_code=202)
async def erase_me(data: ErasureIn, actor: ActorDep, chat: ChatDep) -> ErasureOut:
    """Delete the caller's account with everything it wrote (a wrong password: ``unauthorized``,
    nothing changed)."""
    return await chat.erasure.erase_me(actor, data.password)
