"""The server API's caller (PROTOCOL.md section 17): a server key, not a user.

Every route under ``/api/server/`` takes ``server_key(scope)`` as a dependency: it reads
``Authorization: Bearer <key>``, finds the live key (401 ``unauthorized`` for a missing, unknown
or revoked one), checks that it holds the route's scope (403 ``forbidden``) and takes one request
of the key's rate (429 ``rate_limited``). The refusals are ``ChatError`` values, answered in the
REST error shape by the app's one handler. ``SERVER_KEY`` is the OpenAPI security scheme of these
routes, apart from the users' ``bearer``: Swagger UI's Authorize takes a key for them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.chat.backends.keys import ServerKey
from server.chat.service import Chat
from server.edge.http import ChatDep, bearer_token
from server.edge.rest.errors import RESPONSES

SERVER_TAG = "Server API"
PREFIX = "/api/server"

SERVER_KEY = HTTPBearer(
    auto_error=False,
    scheme_name="serverKey",
    description=(
        "A server key (`psk_...`) for an application's backend: made with `parley keys create` or "
        "in the Admin view, shown once. It is accepted under `/api/server/` only."
    ),
)

KeyCheck = Callable[..., Awaitable[ServerKey]]


def server_key(scope: str) -> KeyCheck:
    """The dependency of a server API route that needs ``scope``: the key behind the request."""

    async def checked(
        request: Request,
        chat: ChatDep,
        _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(SERVER_KEY)],
    ) -> ServerKey:
        return await authorize(chat, request.headers.get("authorization"), scope)

    return checked


async def authorize(chat: Chat, authorization: str | None, scope: str) -> ServerKey:
    """The live key of an ``Authorization`` header that holds ``scope``, one request of its rate
    taken: the one check of every server API request, the hot routes' too (``server_fast``)."""
    key = await chat.server_keys.check(bearer_token(authorization) or "")
    chat.server_keys.require(key, scope)
    await chat.server_keys.take(key)
    return key


def server_router() -> APIRouter:
    """A router of the server API: its prefix, its tag and the error answers every route may give."""
    return APIRouter(prefix=PREFIX, tags=[SERVER_TAG], responses=RESPONSES)
