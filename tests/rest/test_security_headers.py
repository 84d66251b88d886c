"""Security headers: a strict Content-Security-Policy on the page, its files and the API;
``nosniff`` and ``Referrer-Policy`` everywhere; /docs keeps loading Swagger UI from its CDN."""

from __future__ import annotations

import pytest

STRICT = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
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


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_the_api_docs_may_load_their_cdn_and_inline_script(live_server, path):
    response = await live_server.http.get(path)
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers  # Swagger UI: CDN bundle + inline script
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
