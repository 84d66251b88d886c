"""The FastAPI application: routers, error handlers, observation, the web page."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

import server.edge.rest
from server import __version__
from server.edge.rest import errors
from server.edge.rest.admin_ui import mount_admin_ui
from server.edge.rest.docs import install_docs
from server.edge.rest.headers import SecurityHeaders
from server.edge.rest.observe import ObserveRequests
from server.edge.rest.web import mount_web
from server.metrics import Metrics


def routers() -> list[APIRouter]:
    """Every REST router of this package, in its place: a module of ``server/edge/rest/`` mounts
    its ``router`` by declaring ``PLACE`` (a number: the routes' order, which is the OpenAPI
    document's and, for paths that overlap, the one that answers), or several routers by
    ``PLACES`` (attribute name -> place). A capability's router needs no line here; the Admin
    UI's pages (no place) are mounted by ``admin_ui.py``."""
    placed: list[tuple[int, str, APIRouter]] = []
    for module in _modules():
        places: dict[str, int] = getattr(module, "PLACES", {})
        if hasattr(module, "PLACE"):
            places = {"router": module.PLACE, **places}
        for name, place in places.items():
            router = getattr(module, name)
            assert isinstance(router, APIRouter), f"{module.__name__}.{name} is not a router"
            placed.append((place, f"{module.__name__}.{name}", router))
    taken = [place for place, _, _ in placed]
    assert len(taken) == len(set(taken)), f"two routers share a place: {sorted(taken)}"
    return [router for _, _, router in sorted(placed)]


def _modules() -> list[ModuleType]:
    package = server.edge.rest
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    ]


def build_api(
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]],
    metrics: Metrics,
    cors_origins: list[str],
    web_dir: Path,
    extra_routers: Sequence[APIRouter] = (),
    admin_ui: bool = False,
) -> FastAPI:
    """The API; ``extra_routers`` (the compatibility gateways) and the Admin UI's page (when on)
    are mounted before the web page.

    Our REST and gateway routers' routes are added as they are, not through ``include_router``:
    FastAPI makes each route's validators (pydantic schemas of its parameters and answers) when
    the route is made, and an included router's routes are made again for each app that includes
    it, on that app's first request to them (~30 ms of CPU a router). Made once at import, they
    serve every app of the process: a test process builds hundreds of apps (0.29 -> 0.13 s of CPU
    for a server that answers five routes). Each router carries its prefix, tags and
    ``errors.RESPONSES`` itself, and a route keeps no state of an app: its dependencies read
    ``request.app`` on each request.
    """
    api = FastAPI(title="Parley", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    install_docs(api, web_dir)  # Swagger UI and ReDoc from npm, not FastAPI's CDN pages
    api.state.metrics = metrics
    errors.install(api)
    for router in routers():
        api.router.routes.extend(router.routes)  # shared, not re-made: see the docstring
    for router in extra_routers:
        api.router.routes.extend(router.routes)
    if cors_origins:
        api.add_middleware(
            CORSMiddleware, allow_origins=cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    api.add_middleware(ObserveRequests, metrics=metrics, routes=api.routes)
    api.add_middleware(SecurityHeaders)  # outermost of ours: every answer, errors too
    if admin_ui:
        mount_admin_ui(api, web_dir)
    mount_web(api, web_dir)
    _match_first(api, MATCHED_FIRST)
    return api


MATCHED_FIRST = ("/api/server/",)
"""Paths tried before the others. A request is matched against the routes one by one, in order,
and the server API's come last of ~110 in the document's order: a backend publishing at its
machine's rate paid about a sixth of each request's CPU in that walk. No other path overlaps
them, so trying them first answers every request as before."""


def _match_first(api: FastAPI, prefixes: tuple[str, ...]) -> None:
    """Serve the routes under ``prefixes`` first while the OpenAPI document keeps its order: FastAPI
    documents ``api.routes`` in order, so the schema is made (once, when first asked for) from the
    order they were added in (``app.openapi`` replaced: FastAPI's documented way to shape it)."""
    documented = list(api.router.routes)
    first = [route for route in documented if getattr(route, "path", "").startswith(prefixes)]
    api.router.routes[:] = first + [route for route in documented if route not in first]
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        serving = api.router.routes
        api.router.routes = documented  # no await below: no request sees this order
        try:
            return generate()
        finally:
            api.router.routes = serving

    api.openapi = openapi  # type: ignore[method-assign]
