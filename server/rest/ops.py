"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
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


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
