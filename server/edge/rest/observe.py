"""One log line and one metric per HTTP request (route template, status, time).

The route is the matched route's template; a file served by a static mount is
``static`` (the page itself, ``/``, is ``/``); anything else, including a file
that is not there, is ``unmatched`` (one label, whatever the path).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from starlette.routing import BaseRoute, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.edge.errors import classify, http_headers
from server.edge.rest.wire import http_error
from server.metrics import Metrics

log = logging.getLogger("parley.http")


class ObserveRequests:
    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[BaseRoute] | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes or []  # the app's (a live list): names plain Starlette routes (/openapi.json)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started_response = False

        async def watch_start(message: Message) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await watch(message)

        try:
            await self.app(scope, receive, watch_start)
        except Exception as exc:  # the one place an unexpected error becomes a 500
            error = classify(exc, "request failed")
            if not started_response:
                status, body = http_error(error)
                await _send_json(send, status, body, http_headers(error))
        finally:
            path = route_name(scope, status, self.routes)
            self.metrics.requests.labels(scope["method"], path, str(status)).inc()
            elapsed = round((time.perf_counter() - started) * 1000, 2)
            log.info(
                "request", extra={"method": scope["method"], "route": path, "status": status, "ms": elapsed}
            )


def route_name(scope: Scope, status: int, routes: list[BaseRoute]) -> str:
    """The label of this request's route (bounded: templates, ``/``, ``static``, ``unmatched``)."""
    route: Any = scope.get("route")  # set by FastAPI's routes
    template = getattr(route, "path", None)
    if template:
        return str(template)
    endpoint = scope.get("endpoint")  # set by Starlette's routes and mounts
    if isinstance(endpoint, StaticFiles):
        if status == 404:
            return "unmatched"
        return "/" if scope["path"] == "/" else "static"
    if endpoint is not None:
        for candidate in routes:
            if isinstance(candidate, Route) and candidate.endpoint is endpoint:
                return candidate.path
    return "unmatched"


async def _send_json(send: Send, status: int, body: dict[str, Any], more: dict[str, str]) -> None:
    headers = [(b"content-type", b"application/json")]
    headers += [(name.lower().encode(), value.encode()) for name, value in more.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": orjson.dumps(body)})
