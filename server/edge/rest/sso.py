"""Sign-in methods and single sign-on with OpenID Connect (PROTOCOL.md section 14).

``GET /api/auth/methods`` says how one may sign in. ``GET /api/auth/oidc/login`` sends the browser
to the provider (302); the provider sends it back to ``GET /api/auth/oidc/callback``, which ends
with a 302 to ``/#oidc_code=<one-time code>``: the code is in the fragment, which no browser
sends to a server, so it is in no access log; the page exchanges it at once with
``POST /api/auth/oidc/token``. No Parley token is ever in a URL.

A failure of the login or the callback answers the error envelope (401 ``unauthorized`` for a
wrong ``state``, a refused code or ID token; 404 ``not_found`` with single sign-on off) to any
client but a browser navigating there (``Sec-Fetch-Mode: navigate``), which is sent back to the
page with ``/#oidc_error=<code>`` instead, so that a person sees the page say what went wrong
rather than JSON.

The sign-in is bound to the browser that started it: the login sets a cookie holding its
``state`` (HttpOnly, SameSite=Lax, path ``/api/auth/oidc``, 10 minutes), and the callback
refuses a ``state`` that is not the cookie's, so a callback link made by someone else cannot sign a
victim into the sender's account (login CSRF). The latest sign-in of a browser is the one that can
finish.

The redirect URI is ``PARLEY_PUBLIC_URL`` + ``/api/auth/oidc/callback`` when that is set, else
this route's URL as the request names it (its ``Host``; behind a proxy, the forwarded scheme and
host when the proxy is trusted: ``PARLEY_TRUSTED_PROXIES``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from server.chat.accounts.schemas import TokenOut
from server.chat.accounts.sso import FLOW_TTL, CodeIn, MethodsOut
from server.chat.kernel.errors import ChatError
from server.edge.http import AddressDep, ChatDep
from server.edge.rest.accounts import set_refresh, user_agent
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/auth", tags=["accounts"], responses=RESPONSES)
PLACE = 20  # its place among the API's routes and in the OpenAPI document (api.py)
CALLBACK = "/api/auth/oidc/callback"
COOKIE, COOKIE_PATH = "parley_oidc_state", "/api/auth/oidc"
REDIRECTED: dict[int | str, dict[str, Any]] = {
    302: {"description": "to the provider, or back to the page (`/#oidc_code=` or `/#oidc_error=`)"}
}


@router.get("/methods")
async def methods(chat: ChatDep) -> MethodsOut:
    """How one may sign in here: by password (off with ``PARLEY_PASSWORD_LOGIN=off``) and with the
    OpenID Connect provider (null when not configured), whose ``name`` the page shows."""
    return await chat.sso.methods()


@router.get("/oidc/login", status_code=302, response_class=RedirectResponse, responses=REDIRECTED)
async def oidc_login(
    request: Request, chat: ChatDep, address: AddressDep, invite: str | None = None
) -> RedirectResponse:
    """Start a sign-in: a redirect to the provider's authorization endpoint; 429 ``rate_limited``
    past the client address's starts an hour (``PARLEY_OIDC_STARTS_PER_HOUR``). ``invite``: the
    invitation's code a new account joins by (the page's invitation screen passes it on)."""
    try:
        url = await chat.sso.start(redirect_uri(request), address, invite)
    except ChatError as exc:
        return _refused(request, exc)
    response = _redirect(url)
    state = parse_qs(urlsplit(url).query).get("state", [""])[0]
    secure = redirect_uri(request).startswith("https://")
    response.set_cookie(
        COOKIE,
        state,
        int(FLOW_TTL.total_seconds()),
        path=COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/oidc/callback", status_code=302, response_class=RedirectResponse, responses=REDIRECTED)
async def oidc_callback(
    request: Request,
    chat: ChatDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> RedirectResponse:
    """Where the provider sends the browser back: a redirect to ``/#oidc_code=<one-time code>``."""
    try:
        started_here = request.cookies.get(COOKIE)
        one_time = await chat.sso.finish(state, code, error, redirect_uri(request), started_here)
    except ChatError as exc:
        return _refused(request, exc)
    response = _redirect(f"/#oidc_code={one_time}")
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.post("/oidc/token")
async def oidc_token(
    data: CodeIn, chat: ChatDep, address: AddressDep, request: Request, response: Response
) -> TokenOut:
    """The one-time code of the callback for a token, once (60 s); 401 ``unauthorized`` otherwise.
    It opens a session that lasts: the refresh cookie comes with it (PROTOCOL.md section 19)."""
    opened = await chat.sso.exchange_session(data, user_agent(request), address)
    set_refresh(request, response, opened)
    return opened.token


def redirect_uri(request: Request) -> str:
    public: str | None = request.app.state.settings.public_url
    if public:
        return f"{public}{CALLBACK}"
    return str(request.url.replace(path=CALLBACK, query="", fragment=""))


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


def _refused(request: Request, exc: ChatError) -> RedirectResponse:
    """Back to the page for a browser's navigation; the error envelope for anyone else."""
    if request.headers.get("sec-fetch-mode") != "navigate":
        raise exc
    return _redirect(f"/#oidc_error={exc.code.value}")
