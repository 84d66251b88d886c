"""The FastAPI application: routers, error handlers, observation, the web page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from server import __version__
from server.edge.rest import (
    accounts,
    admin_keys,
    admin_users,
    admin_workspace,
    bots,
    conversations,
    echo,
    email,
    emoji,
    erasure,
    errors,
    exports,
    files,
    hooks,
    messages,
    moderation,
    notifications,
    ops,
    people,
    previews,
    push,
    safety,
    server_api,
    server_live,
    sessions,
    sso,
    topics,
    webhooks,
    workspace,
)
from server.edge.rest import search as search_routes
from server.edge.rest.admin_ui import mount_admin_ui
from server.edge.rest.docs import install_docs
from server.edge.rest.headers import SecurityHeaders
from server.edge.rest.observe import ObserveRequests
from server.edge.rest.web import mount_web
from server.metrics import Metrics


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
    routers = [accounts, sso, topics, moderation, conversations, messages, files, echo, safety, search_routes]
    routers += [bots, hooks, webhooks]  # PROTOCOL.md section 12
    routers += [previews, people]  # PROTOCOL.md sections 13 and 14
    routers += [notifications, email, push]  # PROTOCOL.md section 15
    routers += [exports]  # PROTOCOL.md section 16
    routers += [erasure]  # PROTOCOL.md section 16
    routers += [admin_workspace]  # PROTOCOL.md section 19
    routers += [admin_users]  # PROTOCOL.md section 19: the users administered
    routers += [workspace]  # PROTOCOL.md section 19: joining (settings, invites, accounts made)
    routers += [sessions]  # PROTOCOL.md section 19: sessions that last, passwords
    routers += [emoji]  # PROTOCOL.md section 13: custom emoji
    routers += [server_api]  # PROTOCOL.md section 17: the server API's write side
    routers += [admin_keys]  # PROTOCOL.md section 17: its keys, for the workspace's admins
    routers += [server_live]  # PROTOCOL.md section 17: app: events, presence for the cluster
    for router in [
        *(module.router for module in routers),
        hooks.public,
        ops.router,
    ]:  # hooks.public: POST /hooks/<secret>
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
    return api
