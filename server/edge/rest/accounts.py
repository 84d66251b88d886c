"""Accounts: register, login, token refresh, logout (PROTOCOL.md section 6), with sessions that
last (section 19): a password login and single sign-on's code exchange set the refresh
cookie ``parley_refresh`` (HttpOnly, SameSite=Strict, Path ``/api/auth``, Secure over HTTPS);
``POST /api/auth/refresh`` takes it alone and turns it over. Profiles: ``people.py``; the list of
sessions and passwords: ``sessions.py``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from server.chat.accounts.schemas import LoginIn, RegisteredOut, RegisterIn, TokenOut
from server.chat.accounts.sessions import Opened
from server.chat.kernel.errors import ChatError, ErrorCode
from server.edge.http import BEARER, AddressDep, ChatDep, bearer_token
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api", tags=["accounts"], responses=RESPONSES)
PLACE = 10  # its place among the API's routes and in the OpenAPI document (api.py)

REFRESH_COOKIE = "parley_refresh"
REFRESH_PATH = "/api/auth"
USER_AGENT_CHARS = 256
RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, include_in_schema=False)]


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:USER_AGENT_CHARS]


def _cookie_options(request: Request) -> dict[str, Any]:
    # The scheme as the proxy settings left it (uvicorn rewrites it for trusted proxies only).
    secure = request.url.scheme in ("https", "wss")
    return {"path": REFRESH_PATH, "httponly": True, "samesite": "Strict", "secure": secure}


def set_refresh(request: Request, response: Response, opened: Opened) -> None:
    """Set the session's new refresh cookie (none within a refresh's grace: the browser keeps the
    one another tab's refresh just set)."""
    if opened.cookie is not None:
        response.set_cookie(REFRESH_COOKIE, opened.cookie, max_age=opened.max_age, **_cookie_options(request))


def clear_refresh(request: Request, response: Response) -> None:
    response.delete_cookie(REFRESH_COOKIE, **_cookie_options(request))


@router.post("/users", status_code=201)
async def register(data: RegisterIn, chat: ChatDep, address: AddressDep) -> RegisteredOut:
    """A token of no session, as section 6 has it: section 19's refresh cookie comes with a
    password login (the page signs in right after a sign-up), so a client that only registers
    holds no cookie, and a logout with this token revokes every token of the user."""
    return await chat.users.register(data, address)


@router.post("/auth/login")
async def login(
    data: LoginIn, chat: ChatDep, address: AddressDep, request: Request, response: Response
) -> TokenOut:
    opened = await chat.users.login_session(data, address, user_agent(request))
    set_refresh(request, response, opened)
    return opened.token


@router.post("/auth/refresh")
async def refresh(
    chat: ChatDep, request: Request, response: Response, cookie: RefreshCookie = None
) -> TokenOut:
    """``Authorization: Bearer`` with a valid token: a new one of the same token version and
    session (section 6; a logout still revokes both). Without a bearer, the refresh cookie: a new
    token of the cookie's session, and the cookie turned over; a cookie already turned over ends
    the whole session (401). A live socket takes the token with ``auth:refresh``."""
    token = bearer_token(request.headers.get("authorization"))
    if token is not None:
        return await chat.users.refresh(token)
    if not cookie:
        raise ChatError(ErrorCode.UNAUTHORIZED, "send the refresh cookie, or Authorization: Bearer <token>")
    opened = await chat.auth_sessions.refresh(cookie)
    set_refresh(request, response, opened)
    return opened.token


@router.post("/auth/logout", status_code=204)
async def logout(
    chat: ChatDep,
    request: Request,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    cookie: RefreshCookie = None,
) -> Response:
    """Ends the current session: the bearer token's (its tokens refused, its sockets closed on every
    node) and the refresh cookie's when it is the same user's. A token of no session (``parley
    token``, a bot's) revokes every token of the user, as section 6 says; the cookie alone ends its
    session."""
    token = bearer_token(request.headers.get("authorization"))
    if token is not None:
        actor = await chat.users.authenticate(token)
        if not await chat.auth_sessions.end_current(actor):
            await chat.users.logout(actor)
        if cookie:
            await chat.auth_sessions.end_by_cookie(cookie, actor.id)
    elif not (cookie and await chat.auth_sessions.end_by_cookie(cookie)):
        raise ChatError(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>")
    response = Response(status_code=204)
    clear_refresh(request, response)
    return response
