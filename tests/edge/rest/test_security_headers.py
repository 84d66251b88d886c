"""Security headers: a strict Content-Security-Policy on the page, its files, the API and Swagger
UI; ``nosniff`` and ``Referrer-Policy`` everywhere; ReDoc and the Admin UI get inline styles only."""

from __future__ import annotations

import pytest

from tests.support import running
from tests.support import test_settings as make_settings

STRICT = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


def directives(header: str) -> set[str]:
    return {part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/index.html",
        "/js/app.js",
        "/css/app.css",
        "/vendor/socket.io-client/socket.io.esm.min.js",
        "/api/users/me",
        "/api/nope",
        "/healthz",
        "/openapi.json",
        "/docs",
        "/docs/swagger-init.js",
        "/vendor/swagger-ui/swagger-ui-bundle.js",
        "/vendor/redoc/redoc.standalone.js",
        "/administrator",
    ],
)
async def test_the_page_its_files_and_the_api_carry_the_strict_policy(live_server, path):
    response = await live_server.http.get(path)
    assert directives(response.headers["content-security-policy"]) == STRICT
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_an_error_answer_carries_the_headers_once(live_server):
    response = await live_server.http.request("TRACE", "/api/users")
    assert response.status_code == 405
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    assert len(response.headers.get_list("content-security-policy")) == 1


async def test_redoc_may_add_inline_styles_and_a_blob_worker_and_nothing_else(live_server):
    response = await live_server.http.get("/redoc")
    assert response.status_code == 200
    expected = (STRICT - {"style-src 'self'"}) | {"style-src 'self' 'unsafe-inline'", "worker-src blob:"}
    assert directives(response.headers["content-security-policy"]) == expected


@pytest.mark.parametrize("path", ["/admin/", "/admin/js/missing.js", "/admin/parley-admin.js"])
async def test_the_admin_ui_may_add_inline_styles_and_nothing_else(tmp_path, path):
    settings = make_settings(tmp_path / "data", admin_ui=True, admin_password="tangerine-kettle-49")
    async with running(settings) as server:
        response = await server.http.get(path)
    expected = (STRICT - {"style-src 'self'"}) | {"style-src 'self' 'unsafe-inline'"}
    assert directives(response.headers["content-security-policy"]) == expected
    assert response.headers["x-content-type-options"] == "nosniff"
