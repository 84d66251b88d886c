"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from server.rest.deps import ChatDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(chat: ChatDep) -> JSONResponse:
    try:
        await chat.db.ping()
    except Exception:
        body = {"status": "unavailable", "database": "unreachable"}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok"})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
