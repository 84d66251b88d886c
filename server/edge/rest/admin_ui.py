"""The Socket.IO Admin UI's page at ``/admin/``, from the npm package ``@socket.io/admin-ui``.

The package's ``ui/dist`` is served as is, except its ``index.html``: that one
loads Roboto and the Material Design Icons from CDNs, which are replaced by
the ``@mdi/font`` package (served at ``/admin/mdi/``; Roboto falls back to the
system's sans-serif), and it gets ``parley-admin.js``, which makes this server
(same origin, path ``/socket.io``, namespace ``/admin``) the UI's default.
``/admin/reports`` is Parley's own page beside it: the reported messages and the operator's actions
on them (``admin_reports.py``); ``/admin/search`` another: a message search over every conversation
(``admin_search.py``), which ``parley-admin.js`` links from the UI's page; ``/admin/audit`` the
audit log (``admin_audit.py``). Mounted only when
``PARLEY_ADMIN_UI=1``; otherwise ``/admin/`` is a 404.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.edge.rest import admin_audit, admin_reports, admin_search
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
// Parley: a link to the operators' message search, in a corner of the UI (over its login dialog).
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
MISSING = (
    "<!doctype html><title>Socket.IO Admin UI</title><h1>Socket.IO Admin UI</h1>"
    "<p>The npm package <code>@socket.io/admin-ui</code> is not installed: run <code>make install</code> "
    "(or <code>npm ci</code> in <code>web/</code>) and reload.</p>"
)


def local_index(text: str) -> str:
    """The package's index.html with no CDN stylesheet and Parley's defaults script."""
    return REMOTE_STYLESHEET.sub("", text).replace("</head>", LOCAL_HEAD + "</head>", 1)


def mount_admin_ui(app: FastAPI, web_dir: Path) -> None:
    """Add /admin/ (before the web page's mount at /, which would take it otherwise)."""
    dist = web_dir / UI_DIST

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

    app.include_router(admin_reports.router)  # the Reports page (PROTOCOL.md section 10)
    app.include_router(admin_search.router)  # the Message search page (PROTOCOL.md section 9)
    app.include_router(admin_audit.router)  # the Audit log page (PROTOCOL.md section 16)
    mdi = PackageFiles(routes=app.routes, directory=web_dir / MDI, package="@mdi/font")
    app.mount("/admin/mdi", mdi, name="admin-mdi")
    ui = PackageFiles(routes=app.routes, directory=dist, package="@socket.io/admin-ui")
    app.mount("/admin", ui, name="admin-ui")
