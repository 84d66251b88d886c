"""What every HTTP route of every transport reads from a request, written once.

REST (``server.edge.rest``) and the gateway dialects' HTTP routes (``server.edge.gateway``) take
the chat service, the client's address and the caller from here, and Socket.IO
(``server.edge.sio``) reads a CONNECT's ``Authorization`` header with the same parser. It sits
beside the transports, which may import it but not each other (pyproject's import contracts).
Errors are raised as ``ChatError``; each transport renders them in its own shape.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.service import Chat


async def get_chat(request: Request) -> Chat:
    """The app's chat service. A dependency is ``async`` even when it awaits nothing: FastAPI runs a
    plain function dependency in its thread pool, a hop to another thread and back on every
    request (about a tenth of a small route's CPU)."""
    chat: Chat = request.app.state.chat
    return chat


ChatDep = Annotated[Chat, Depends(get_chat)]


def client_address(connection: HTTPConnection) -> str:
    """The peer, or the X-Forwarded-For client when the peer is in PARLEY_TRUSTED_PROXIES (uvicorn
    rewrites the peer from the header for trusted proxies only: ``Settings.proxy_options``)."""
    return connection.client.host if connection.client else ""


async def _address(connection: HTTPConnection) -> str:
    return client_address(connection)  # async: see ``get_chat``


AddressDep = Annotated[str, Depends(_address)]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value (the scheme in any case, the token
    stripped); None for a missing value, another scheme or an empty token."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if token and scheme.lower() == "bearer" else None


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description=(
        "A Parley access token: `POST /api/auth/login` answers it as `token` (register first with "
        "`POST /api/users`). The compat dialects' logins answer the same tokens."
    ),
)
"""The one security scheme of the OpenAPI document: every operation that reads the caller declares
it, so that Swagger UI's Authorize sends the token to the whole API. It reads nothing used here."""


async def request_token(
    request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> str:
    """The ``Authorization: Bearer`` token, unchecked; ``unauthorized`` without one."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>")
    return token


TokenDep = Annotated[str, Depends(request_token)]


async def get_actor(token: TokenDep, chat: ChatDep) -> Actor:
    """The user behind ``Authorization: Bearer``; ``unauthorized`` with the precise reason otherwise
    (each transport renders it as its 401)."""
    return await chat.users.authenticate(token)


async def echo_history(chat: Chat, actor: Actor, before: int | None, limit: int) -> Response:
    """A page of the caller's echo transcripts, for REST and the echo dialect alike: the JSON
    ``EchoService.history`` renders from the stored transcripts (megabytes for a page of full
    transcripts), answered as those bytes; ``TranscriptsOut`` documents them."""
    return Response(await chat.echo.history(actor, before, limit), media_type="application/json")


ActorDep = Annotated[Actor, Depends(get_actor)]
