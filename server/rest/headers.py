"""Security headers on every HTTP answer of the page, its files and the API.

The page loads only its own scripts, styles and the socket.io-client bundle from
``/vendor``, and talks only to its own origin (fetch, polling, WebSocket), so the
policy allows ``'self'`` and nothing inline (``data:`` images: the empty favicon).
The API documentation pages (Swagger UI, ReDoc) load their bundles from a CDN and
start them with an inline script: they get no policy, only the other headers.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PATHS = ("/docs", "/redoc")
COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
STRICT = [*COMMON, (b"content-security-policy", PAGE_POLICY.encode())]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        docs = any(path == prefix or path.startswith(prefix + "/") for prefix in DOCS_PATHS)
        extra = COMMON if docs else STRICT
        names = {name for name, _ in extra}

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, add_headers)
