"""The Socket.IO Admin UI's page at ``/admin/``, from the npm package ``@socket.io/admin-ui``.

The package's ``ui/dist`` is served as is, except its ``index.html``: that one
loads Roboto and the Material Design Icons from CDNs, which are replaced by
the ``@mdi/font`` package (served at ``/admin/mdi/``; Roboto falls back to the
system's sans-serif), and it gets ``parley-admin.js``, which makes this server
(same origin, path ``/socket.io``, namespace ``/admin``) the UI's default.
Mounted only when ``PARLEY_ADMIN_UI=1``; otherwise ``/admin/`` is a 404.

Beside it, Parley's own page for operators: ``/admin/search``, a message search over every topic
and direct conversation (PROTOCOL.md section 9's query language, without the per-user access
filter), linked from the Admin UI's page by ``parley-admin.js``. Its script is
``web/js/admin_search.js``; it asks ``/admin/api/login`` and ``/admin/api/search`` with the
Admin UI's credentials as HTTP Basic (checked like the UI's own login, with the same limit on
failures per address: ``AdminUI.login_refusal``). No ``WWW-Authenticate`` challenge is sent, so
the browser shows the page's form, never its own dialog.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.chat.errors import ChatError, ErrorCode
from server.edge.engine.admin import REFUSED
from server.edge.http import ChatDep, client_address
from server.edge.rest.web import PackageFiles

UI_DIST = Path("node_modules") / "@socket.io" / "admin-ui" / "ui" / "dist"
MDI = Path("node_modules") / "@mdi" / "font"
REMOTE_STYLESHEET = re.compile(r'<link rel="stylesheet" href="https?://[^"]*">')
LOCAL_HEAD = (
    '<link rel="stylesheet" href="mdi/css/materialdesignicons.min.css">'
    '<script src="parley-admin.js"></script>'
)
DEFAULTS = """\
// Parley: this server is the Admin UI's default (same origin; path /socket.io, namespace /admin).
if (!localStorage.getItem("server_url")) localStorage.setItem("server_url", location.origin);
// Parley: a link to the operators' message search, in a corner of the UI.
addEventListener("DOMContentLoaded", () => {
  const link = document.createElement("a");
  link.href = "search";
  link.textContent = "Message search";
  link.id = "parley-search-link";
  link.className = "v-btn v-btn--is-elevated theme--light primary";
  const place = { position: "fixed", right: "16px", bottom: "16px", zIndex: "100000", padding: "8px 14px" };
  Object.assign(link.style, place);
  document.body.append(link);
});
"""
SEARCH_PAGE = """\
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Message search · Parley operators</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/css/app.css">
  <script type="module" src="/js/admin_search.js"></script>
</head>
<body class="admin-search-page">
  <main id="admin-search" class="admin-search"><p class="boot-note">Loading…</p></main>
</body>
</html>
"""
MISSING = (
    "<!doctype html><title>Socket.IO Admin UI</title><h1>Socket.IO Admin UI</h1>"
    "<p>The npm package <code>@socket.io/admin-ui</code> is not installed: run <code>make install</code> "
    "(or <code>npm ci</code> in <code>web/</code>) and reload.</p>"
)


def local_index(text: str) -> str:
    """The package's index.html with no CDN stylesheet and Parley's defaults script."""
    return REMOTE_STYLESHEET.sub("", text).replace("</head>", LOCAL_HEAD + "</head>", 1)


class AdminLogin(Protocol):
    """What the operators' search asks of the Admin UI (``server.edge.engine.admin.AdminUI``)."""

    def login_refusal(self, address: str, auth: object) -> str | None: ...


def basic_credentials(authorization: str | None) -> dict[str, str] | None:
    """``{"username", "password"}`` from ``Authorization: Basic ...``; None when it is not one."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return {"username": username, "password": password} if colon else None


def check_operator(request: Request) -> None:
    """The Admin UI's credentials as HTTP Basic, else ``unauthorized`` (or ``rate_limited`` after
    too many failures from the address); ``not_found`` when the Admin UI is off."""
    admin: AdminLogin | None = getattr(request.app.state, "admin", None)
    if admin is None:
        raise ChatError(ErrorCode.NOT_FOUND, "the Admin UI is off (PARLEY_ADMIN_UI)")
    credentials = basic_credentials(request.headers.get("authorization"))
    if credentials is None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "send the Admin UI's credentials as Authorization: Basic")
    refusal = admin.login_refusal(client_address(request), credentials)
    if refusal is not None:
        code = ErrorCode.UNAUTHORIZED if refusal == REFUSED else ErrorCode.RATE_LIMITED
        raise ChatError(code, refusal)


def mount_admin_ui(app: FastAPI, web_dir: Path) -> None:
    """Add /admin/ (before the web page's mount at /, which would take it otherwise)."""
    dist = web_dir / UI_DIST
    _mount_search(app)

    @app.get("/admin", include_in_schema=False)
    async def admin_slash() -> Response:
        return RedirectResponse("admin/", status_code=307)

    @app.get("/admin/", include_in_schema=False)
    async def admin_index() -> Response:
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(MISSING, status_code=503)
        return HTMLResponse(local_index(index.read_text(encoding="utf-8")))

    @app.get("/admin/parley-admin.js", include_in_schema=False)
    async def admin_defaults() -> Response:
        return Response(DEFAULTS, media_type="text/javascript")

    mdi = PackageFiles(routes=app.routes, directory=web_dir / MDI, package="@mdi/font")
    app.mount("/admin/mdi", mdi, name="admin-mdi")
    ui = PackageFiles(routes=app.routes, directory=dist, package="@socket.io/admin-ui")
    app.mount("/admin", ui, name="admin-ui")


def _mount_search(app: FastAPI) -> None:
    """The operators' message search: its page and its two calls (see the module's docstring)."""

    @app.get("/admin/search", include_in_schema=False)
    async def search_page() -> Response:
        return HTMLResponse(SEARCH_PAGE)

    @app.get("/admin/api/login", include_in_schema=False, status_code=204)
    async def login(request: Request) -> Response:
        check_operator(request)
        return Response(status_code=204)

    @app.get("/admin/api/search", include_in_schema=False)
    async def search(
        request: Request,
        chat: ChatDep,
        q: Annotated[str, Query(min_length=1, max_length=256)],
        cursor: Annotated[str | None, Query(max_length=512)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> Any:
        check_operator(request)
        # Waiting for the search service (issue 22, branch i22-search): see the closing note.
        return await chat.search.search_all(q, cursor, limit)  # type: ignore[attr-defined]
