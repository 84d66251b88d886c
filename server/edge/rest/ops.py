"""Liveness, readiness and metrics (behind PARLEY_METRICS_TOKEN when it is set)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from server.chat.kernel.errors import ChatError, ErrorCode
from server.edge.http import bearer_token

router = APIRouter(tags=["operations"])
PLACE = 1000  # last: health, metrics and the version are no capability's


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency does not answer"}})
async def readyz(request: Request) -> JSONResponse:
    """Ready when every dependency answers: the database, and Redis when configured."""
    body: dict[str, str] = {}
    for name, check in request.app.state.readiness.items():
        try:
            await check()
            body[name] = "ok"
        except Exception:
            body[name] = "unreachable"
    ready = all(value == "ok" for value in body.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", **body}, status_code=200 if ready else 503
    )


async def metrics_access(request: Request) -> None:
    """Open without PARLEY_METRICS_TOKEN; with it, its bearer only (compared in constant time)."""
    expected: str | None = request.app.state.settings.metrics_token
    if expected is None:
        return
    given = bearer_token(request.headers.get("authorization")) or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ChatError(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <PARLEY_METRICS_TOKEN>")


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {"description": "Prometheus text exposition"},
        # The envelope by reference: with ``model`` FastAPI would say text/plain, the route's type.
        401: {
            "description": "`unauthorized`: PARLEY_METRICS_TOKEN is set and not sent",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        },
    },
)
async def metrics(request: Request, _access: Annotated[None, Depends(metrics_access)]) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
