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
