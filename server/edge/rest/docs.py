"""The API documentation (Swagger UI at /docs, ReDoc at /redoc) with assets from npm, no CDN.

FastAPI's own pages load their bundles from a CDN and start Swagger UI with an
inline script. These load ``swagger-ui-dist`` and ``redoc`` from ``web/``'s
node_modules (served under ``/vendor/``, see ``web.py``) and start Swagger UI
from ``/docs/swagger-init.js``, so both run offline and under a policy with no
inline script. When the packages are not installed the pages say how to
install them (503: the server runs, this part of it is not set up).
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

SWAGGER_DIST = Path("node_modules") / "swagger-ui-dist"
REDOC_DIST = Path("node_modules") / "redoc" / "bundles"
SWAGGER_INIT = """\
// Parley: start Swagger UI on this server's schema (the URL is the script tag's data-openapi).
window.ui = SwaggerUIBundle({
  url: document.currentScript.dataset.openapi,
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
{head}
</head>
<body>
{body}
</body>
</html>
"""
MISSING = """<h1>{title}</h1>
<p>The npm package <code>{package}</code> is not installed, so this page cannot be shown.</p>
<p>Run <code>make install</code> (or <code>npm ci</code> in <code>web/</code>) and reload.</p>
"""


def _page(title: str, head: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), head=head, body=body), status_code=status)


def _missing(title: str, package: str) -> HTMLResponse:
    return _page(title, "", MISSING.format(title=html.escape(title), package=package), status=503)


def install_docs(api: FastAPI, web_dir: Path, openapi_url: str = "/openapi.json") -> None:
    """Add /docs, /docs/swagger-init.js and /redoc (the FastAPI app is built with both URLs off)."""

    @api.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        title = f"{api.title} - Swagger UI"
        if not (web_dir / SWAGGER_DIST / "swagger-ui-bundle.js").is_file():
            return _missing(title, "swagger-ui-dist")
        root = html.escape(request.scope.get("root_path", ""))
        head = f'<link rel="stylesheet" href="{root}/vendor/swagger-ui/swagger-ui.css">'
        body = (
            '<div id="swagger-ui"></div>\n'
            f'<script src="{root}/vendor/swagger-ui/swagger-ui-bundle.js"></script>\n'
            f'<script src="{root}/docs/swagger-init.js" data-openapi="{root}{openapi_url}"></script>'
        )
        return _page(title, head, body)

    @api.get("/docs/swagger-init.js", include_in_schema=False)
    async def swagger_init() -> Response:
        return Response(SWAGGER_INIT, media_type="text/javascript")

    @api.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        title = f"{api.title} - ReDoc"
        if not (web_dir / REDOC_DIST / "redoc.standalone.js").is_file():
            return _missing(title, "redoc")
        root = html.escape(request.scope.get("root_path", ""))
        body = (
            f'<redoc spec-url="{root}{openapi_url}"></redoc>\n'
            f'<script src="{root}/vendor/redoc/redoc.standalone.js"></script>'
        )
        return _page(title, "", body)
