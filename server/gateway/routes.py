"""Every gateway route, for the composition root to mount beside the REST API."""

from __future__ import annotations

from fastapi import APIRouter

from server.gateway import echo, echo_ws, messenger, messenger_ws, public, rooms, topics


def gateway_routers() -> list[APIRouter]:
    """The REST and WebSocket routers of every dialect (each under ``/compat/<dialect>``)."""
    return [
        topics.router,
        messenger.router,
        messenger_ws.router,
        echo.router,
        echo_ws.router,
        public.router,
        rooms.router,
    ]
