"""The REST API's routes are made once per process and shared by every app (server/edge/rest/api.py).

FastAPI makes a route's validators when the route is made; ``include_router`` made every route of
an included router again for each app, on its first request. Shared, they must still be our
routes with their prefix, tags and documented errors, in every app.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute

from server.edge.http import request_token
from server.edge.rest import accounts, errors, hooks, messages, ops, topics
from server.edge.rest.api import build_api
from server.metrics import Metrics

WEB = Path(__file__).resolve().parents[3] / "web"


@contextlib.asynccontextmanager
async def no_lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def api() -> FastAPI:
    return build_api(no_lifespan, Metrics(), [], WEB)


def routes(app: FastAPI) -> dict[tuple[str, frozenset[str]], APIRoute]:
    return {(r.path, frozenset(r.methods)): r for r in app.routes if isinstance(r, APIRoute)}


def test_two_apps_serve_the_same_route_objects_made_at_import() -> None:
    first, second = api(), api()

    for router in (accounts.router, topics.router, messages.router, hooks.public, ops.router):
        for route in router.routes:  # the module's own routes, not copies
            assert any(served is route for served in first.routes), route
            assert any(served is route for served in second.routes), route


def test_each_shared_route_keeps_its_prefix_tag_and_documented_errors() -> None:
    served = routes(api())
    [listing] = [r for (path, methods), r in served.items() if path == "/api/topics" and "GET" in methods]

    assert listing.tags == ["topics"]
    for status in (401, 422, 429, 500):
        assert listing.responses[status] == errors.RESPONSES[status]


async def test_the_openapi_document_lists_the_shared_routes_with_the_error_envelope() -> None:
    transport = httpx.ASGITransport(app=api())
    async with httpx.AsyncClient(transport=transport, base_url="http://parley.test") as client:
        document: dict[str, Any] = (await client.get("/openapi.json")).json()

    operation = document["paths"]["/api/topics"]["get"]
    assert operation["tags"] == ["topics"]
    assert set(operation["responses"]) >= {"200", "401", "422", "429", "500"}
    assert "/hooks/{secret}" in document["paths"]  # hooks.public, without the /api prefix
    assert "/healthz" in document["paths"]  # ops.router


TOKEN_OPTIONAL = {("POST", "/api/auth/logout")}  # the token's session, or the refresh cookie's


def reads_the_caller(dependant: Any) -> bool:
    """The route (or one of its dependencies, at any depth) reads the bearer token."""
    return any(dep.call is request_token or reads_the_caller(dep) for dep in dependant.dependencies)


async def test_every_operation_that_reads_the_caller_declares_the_bearer_scheme_and_no_other_does() -> None:
    """Swagger UI's Authorize sends the token only to operations that declare a scheme: 8 of 102
    did (the messenger dialect's), and ``GET /api/topics`` went out without it (a 401)."""
    app = api()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://parley.test") as client:
        document: dict[str, Any] = (await client.get("/openapi.json")).json()

    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"bearer", "serverKey"}  # a user's token; a backend's key (section 17)
    for scheme in schemes.values():
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "POST /api/auth/login" in schemes["bearer"]["description"]
    checked = 0
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods - {"HEAD"}:
            operation = document["paths"][route.path][method.lower()]
            if route.path.startswith("/api/server/"):  # the server API: a server key, never a user's
                assert operation.get("security") == [{"serverKey": []}], (method, route.path)
                continue
            declared = operation.get("security") == [{"bearer": []}]
            wanted = reads_the_caller(route.dependant) or (method, route.path) in TOKEN_OPTIONAL
            assert declared == wanted, (method, route.path)
            checked += declared
    assert checked > 60
    assert "security" in document["paths"]["/api/topics"]["get"]
    for public in ("/api/auth/login", "/api/users", "/api/auth/refresh"):
        assert "security" not in document["paths"][public]["post"]
