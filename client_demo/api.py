"""The REST calls the client needs: log in, register (PROTOCOL.md section 6), refresh a
token (section 10), a session's refresh cookie, its refresh and logout (section 19), bots,
their tokens and incoming webhooks, and a topic's outgoing webhooks (section 12, ``call``).

Every failure becomes ``ClientError``: the server's ``{"error": {"code",
"message"}}`` as given, ``unreachable`` when no server answers, ``bad_reply``
when the answer is not the documented shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from client_demo.errors import ClientError


async def login(url: str, username: str, password: str, *, timeout: float = 10.0) -> str:
    """``POST /api/auth/login``; the token. ``unauthorized`` for a wrong name or password."""
    body = await _post(url, "/api/auth/login", {"username": username, "password": password}, timeout)
    return _token(body)


async def register(url: str, username: str, password: str, *, timeout: float = 10.0) -> str:
    """``POST /api/users``; the new user's token. ``conflict`` if the name is taken."""
    body = await _post(url, "/api/users", {"username": username, "password": password}, timeout)
    return _token(body)


async def refresh(url: str, token: str, *, timeout: float = 10.0) -> str:
    """``POST /api/auth/refresh`` with ``token`` as the Bearer; a new token of the same user.
    ``token_expired`` or ``token_revoked`` when ``token`` no longer is valid."""
    body = await _post(url, "/api/auth/refresh", None, timeout, {"Authorization": f"Bearer {token}"})
    return _token(body)


REFRESH_COOKIE = "parley_refresh"  # PROTOCOL.md section 19: the session's refresh cookie


@dataclass(frozen=True)
class Signed:
    """A sign-in's answer: the access token and the session's refresh cookie (None when the server
    set none: an older server, or a refresh within the grace of another one)."""

    token: str
    cookie: str | None


async def login_session(url: str, username: str, password: str, *, timeout: float = 10.0) -> Signed:
    """``POST /api/auth/login``: the token and the new session's refresh cookie."""
    response = await _send(
        url, "POST", "/api/auth/login", {"username": username, "password": password}, timeout
    )
    return Signed(_token(_json(response)), response.cookies.get(REFRESH_COOKIE))


async def register_session(
    url: str, username: str, password: str, *, timeout: float = 10.0, invite: str | None = None
) -> Signed:
    """``POST /api/users`` then ``POST /api/auth/login``: the new user's token and the session
    the login opens (a sign-up alone opens none: its token has no refresh cookie, section 6).
    ``conflict`` if taken; ``invite``: an invitation's code (PROTOCOL.md section 19: an
    invite-only workspace needs one; ``invalid`` when it is no longer valid, ``forbidden`` when
    sign-ups are closed)."""
    body = {"username": username, "password": password, **({"invite": invite} if invite else {})}
    _token(_json(await _send(url, "POST", "/api/users", body, timeout)))
    return await login_session(url, username, password, timeout=timeout)


async def refresh_session(url: str, cookie: str, *, timeout: float = 10.0) -> Signed:
    """``POST /api/auth/refresh`` with the refresh cookie only: a new token and the cookie turned
    over (keep it: the old one is spent). ``unauthorized`` when the session is over."""
    response = await _send(url, "POST", "/api/auth/refresh", None, timeout, _cookie(cookie))
    return Signed(_token(_json(response)), response.cookies.get(REFRESH_COOKIE))


async def logout_session(url: str, cookie: str, *, timeout: float = 10.0) -> None:
    """``POST /api/auth/logout`` with the refresh cookie only: that session ends (its tokens
    refused, its sockets closed). ``unauthorized`` when it had ended already."""
    await _send(url, "POST", "/api/auth/logout", None, timeout, _cookie(cookie))


def _cookie(cookie: str) -> dict[str, str]:
    return {"Cookie": f"{REFRESH_COOKIE}={cookie}"}


async def create_bot(url: str, token: str, name: str, *, timeout: float = 10.0) -> Any:
    """``POST /api/bots``: a bot owned by the caller; ``{"username", "bot", "owner"}``."""
    return await _post(url, "/api/bots", {"username": name}, timeout, _bearer(token))


async def bot_token(url: str, token: str, name: str, label: str = "", *, timeout: float = 10.0) -> Any:
    """``POST /api/bots/{name}/tokens``: ``{"id", "token"}``, the token shown this once."""
    return await _post(url, f"/api/bots/{quote(name)}/tokens", {"label": label}, timeout, _bearer(token))


async def create_hook(url: str, token: str, topic: str, *, timeout: float = 10.0) -> Any:
    """``POST /api/topics/{topic}/hooks``: ``{"id", "url"}``, the URL shown this once."""
    return await _post(url, f"/api/topics/{quote(topic)}/hooks", {}, timeout, _bearer(token))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(
    url: str, method: str, path: str, token: str, payload: Any = None, *, timeout: float = 10.0
) -> Any:
    """Any REST call with ``token`` as the Bearer (the webhooks of PROTOCOL.md section 12)."""
    return _json(await _send(url, method, path, payload, timeout, _bearer(token)))


async def _post(
    url: str, path: str, payload: dict[str, Any] | None, timeout: float, headers: dict[str, str] | None = None
) -> Any:
    try:
        async with httpx.AsyncClient(base_url=url, timeout=timeout) as http:
            response = await http.post(path, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise ClientError("unreachable", f"cannot reach {url}: {exc or type(exc).__name__}") from None
    if response.is_success:
        return _json(response)
    raise _error(response)


async def _send(
    url: str,
    method: str,
    path: str,
    payload: dict[str, Any] | None,
    timeout: float,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """The successful response of one call (its cookies are read from it), else ``ClientError``."""
    try:
        async with httpx.AsyncClient(base_url=url, timeout=timeout) as http:
            response = await http.request(method, path, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise ClientError("unreachable", f"cannot reach {url}: {exc or type(exc).__name__}") from None
    if response.is_success:
        return response
    raise _error(response)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ClientError("bad_reply", f"HTTP {response.status_code}: not JSON") from None


def _error(response: httpx.Response) -> ClientError:
    try:
        error = response.json().get("error")
        return ClientError(str(error["code"]), str(error.get("message", "")))
    except (ValueError, AttributeError, KeyError, TypeError):
        text = response.text.strip()[:200] or response.reason_phrase
        return ClientError(f"http_{response.status_code}", text)


def _token(body: Any) -> str:
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise ClientError("bad_reply", "the server's answer has no token")
    return token
