"""Security headers on every HTTP answer of the page, its files, the API and its documentation.

The page loads only its own scripts, styles and the socket.io-client bundle from
``/vendor``, and talks only to its own origin (fetch, polling, WebSocket), so the
policy allows ``'self'`` and nothing inline (``data:`` images: the empty favicon).
Swagger UI at ``/docs`` runs under that same policy: its bundle comes from
``/vendor`` and it is started by ``/docs/swagger-init.js``, not an inline script.

Two pages need one thing more, and get only that, on their own paths:

- ``/redoc``: ReDoc styles its page with styled-components, which inserts
  ``<style>`` elements at run time: ``style-src 'unsafe-inline'``; its search
  runs in a Web Worker built from a ``blob:`` URL: ``worker-src blob:``.
- ``/admin/`` (the Socket.IO Admin UI, when enabled): Vuetify writes its theme
  into a ``<style>`` element at run time: ``style-src 'unsafe-inline'``.

Inline *styles* cannot run script; ``script-src`` stays ``'self'`` everywhere.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",  # blob: the page shows files it fetched with the token (section 11)
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(**changes: str) -> str:
    """The page's policy with some directives replaced or added (``worker_src`` -> ``worker-src``)."""
    directives = {**DIRECTIVES, **{name.replace("_", "-"): value for name, value in changes.items()}}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


PAGE_POLICY = policy()
REDOC_POLICY = policy(style_src="'self' 'unsafe-inline'", worker_src="blob:")
ADMIN_UI_POLICY = policy(style_src="'self' 'unsafe-inline'")
COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
STRICT = [*COMMON, (b"content-security-policy", PAGE_POLICY.encode())]
# Path prefix -> the headers of its answers (first match wins; every other path gets STRICT).
BY_PREFIX = [
    ("/redoc", [*COMMON, (b"content-security-policy", REDOC_POLICY.encode())]),
    ("/admin", [*COMMON, (b"content-security-policy", ADMIN_UI_POLICY.encode())]),
]


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    for prefix, headers in BY_PREFIX:
        if path == prefix or path.startswith(prefix + "/"):
            return headers
    return STRICT


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"])
        names = {name for name, _ in extra}

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, add_headers)
